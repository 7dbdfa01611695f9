//! Text measurement without fonts: CJK characters are about 1 em wide, ASCII about 0.55 em.
//! Good enough to size boxes so neither Chinese nor English labels are clipped.

/// True for characters drawn about one em wide (CJK ideographs, kana, hangul, full-width forms).
fn wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD)
}

/// Width of one character in em.
fn char_em(c: char) -> f64 {
    if wide(c) {
        1.0
    } else if c.is_ascii_uppercase() || matches!(c, 'm' | 'w' | 'M' | 'W' | '@' | '%') {
        0.68
    } else if matches!(c, 'i' | 'l' | 'j' | '.' | ',' | '\'' | '|' | '!' | ':' | ';' | ' ') {
        0.3
    } else if c.is_ascii() {
        0.55
    } else {
        0.62
    }
}

/// Estimated width in pixels of `s` at `font_size` (bold text is about 5% wider).
pub(crate) fn width(s: &str, font_size: f64, bold: bool) -> f64 {
    let em: f64 = s.chars().map(char_em).sum();
    em * font_size * if bold { 1.06 } else { 1.0 }
}

/// Splits into breakable pieces: each wide character alone, runs of other characters up to
/// and including a following space.
fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        let c = if c.is_whitespace() { ' ' } else { c };
        if wide(c) {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            out.push(c.to_string());
        } else {
            cur.push(c);
            if c == ' ' {
                out.push(std::mem::take(&mut cur));
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Greedy line wrap to `max_width` pixels, at most `max_lines` lines; a cut text ends in `…`.
pub(crate) fn wrap(s: &str, max_width: f64, font_size: f64, bold: bool, max_lines: usize) -> Vec<String> {
    let w = |t: &str| width(t, font_size, bold);
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut truncated = false;
    'outer: for tok in tokens(s.trim()) {
        let candidate = format!("{cur}{tok}");
        if w(candidate.trim_end()) <= max_width || cur.is_empty() && w(tok.trim_end()) <= max_width {
            cur = candidate;
            continue;
        }
        // The token does not fit on this line.
        if !cur.is_empty() {
            lines.push(cur.trim_end().to_string());
            cur = String::new();
            if lines.len() == max_lines {
                truncated = true;
                break;
            }
        }
        if w(tok.trim_end()) <= max_width {
            cur = tok;
        } else {
            // A word longer than a line: break it by characters.
            for c in tok.chars() {
                if w(&format!("{cur}{c}")) > max_width && !cur.is_empty() {
                    lines.push(std::mem::take(&mut cur));
                    if lines.len() == max_lines {
                        truncated = true;
                        break 'outer;
                    }
                }
                cur.push(c);
            }
        }
    }
    if !truncated && !cur.trim().is_empty() {
        if lines.len() == max_lines {
            truncated = true;
        } else {
            lines.push(cur.trim_end().to_string());
        }
    }
    if truncated && let Some(last) = lines.last_mut() {
        while !last.is_empty() && w(&format!("{last}…")) > max_width {
            last.pop();
        }
        let trimmed = last.trim_end().to_string();
        *last = format!("{trimmed}…");
    }
    lines
}

/// Escapes text for XML content and attribute values.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Characters XML 1.0 does not allow at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_is_wider_than_ascii() {
        assert_eq!(width("报价", 10.0, false), 20.0);
        assert!(width("ab", 10.0, false) < 12.0);
    }

    #[test]
    fn wraps_words_and_cjk_and_truncates() {
        assert_eq!(wrap("Quote accepted?", 60.0, 12.0, false, 2), vec!["Quote", "accepted?"]);
        let lines = wrap("通过社交媒体展会广告电话营销等渠道寻找和筛选潜在客户", 100.0, 10.0, false, 2);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].chars().count(), 10);
        assert!(lines[1].ends_with('…'), "{lines:?}");
        assert!(lines.iter().all(|l| width(l, 10.0, false) <= 100.0));
        assert_eq!(wrap("short", 100.0, 10.0, false, 2), vec!["short"]);
        assert!(wrap("", 100.0, 10.0, false, 2).is_empty());
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(xml_escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
