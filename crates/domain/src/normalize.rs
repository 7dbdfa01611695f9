//! Normal forms for duplicate detection: the same person typed twice should compare equal.

/// What text search matches against: the parts lower-cased with Unicode rules (SQL `lower()`
/// folds only ASCII on both backends), so "ärztekammer" finds "Ärztekammer".
pub fn search_text(parts: &[Option<&str>]) -> String {
    parts.iter().flatten().map(|p| p.trim().to_lowercase()).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Lower-cased, trimmed email; `None` when it is not an address.
pub fn email(raw: &str) -> Option<String> {
    let e = raw.trim().to_lowercase();
    let (local, domain) = e.split_once('@')?;
    if local.is_empty() || !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return None;
    }
    if e.chars().any(|c| c.is_whitespace()) || domain.contains('@') {
        return None;
    }
    Some(e)
}

/// Digits only, with the Chinese country prefix removed from mobile numbers, so
/// "+86 138-0013-8000", "0086 13800138000" and "138 0013 8000" are one number.
/// `None` when fewer than 6 digits remain.
pub fn phone(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.strip_prefix("00").unwrap_or(&digits).to_string();
    let digits = match digits.strip_prefix("86") {
        Some(rest) if rest.len() == 11 && rest.starts_with('1') => rest.to_string(),
        _ => digits,
    };
    (digits.len() >= 6).then_some(digits)
}

/// Legal-form suffixes that do not distinguish one company from another.
const COMPANY_SUFFIXES: &[&str] = &[
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团公司",
    "公司",
    "corporation",
    "company",
    "limited",
    "co.,ltd.",
    "co.,ltd",
    "co.ltd",
    "co.",
    "corp.",
    "corp",
    "inc.",
    "inc",
    "ltd.",
    "ltd",
    "llc",
    "gmbh",
    "plc",
    "co",
];

/// Company name without case, spaces, punctuation or its legal form:
/// "上海云帆科技有限公司" and "上海云帆科技" compare equal, as do "Acme, Inc." and "ACME".
pub fn company(raw: &str) -> Option<String> {
    let mut s: String = raw.trim().to_lowercase();
    loop {
        let trimmed = s.trim_end_matches(|c: char| c.is_whitespace() || c == ',' || c == '.');
        let mut stripped = None;
        for suffix in COMPANY_SUFFIXES {
            let bare = suffix.trim_end_matches('.');
            if let Some(rest) = trimmed.strip_suffix(suffix).or_else(|| trimmed.strip_suffix(bare)) {
                // Only strip an English suffix that stands as its own word.
                let is_ascii = suffix.is_ascii();
                if (!is_ascii || rest.ends_with(|c: char| c.is_whitespace() || c == ',' || c == '.'))
                    && !rest.trim().is_empty()
                {
                    stripped = Some(rest.to_string());
                    break;
                }
            }
        }
        match stripped {
            Some(rest) => s = rest,
            None => {
                s = trimmed.to_string();
                break;
            }
        }
    }
    let key: String = s.chars().filter(|c| c.is_alphanumeric()).collect();
    (!key.is_empty()).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(email("  Li.Wei@Example.COM ").as_deref(), Some("li.wei@example.com"));
        assert_eq!(email("not-an-email"), None);
        assert_eq!(email("a@b"), None);
    }

    #[test]
    fn phones() {
        assert_eq!(phone("+86 138-0013-8000").as_deref(), Some("13800138000"));
        assert_eq!(phone("0086 13800138000").as_deref(), Some("13800138000"));
        assert_eq!(phone("138 0013 8000").as_deref(), Some("13800138000"));
        assert_eq!(phone("+1 (415) 555-0100").as_deref(), Some("14155550100"));
        assert_eq!(phone("12"), None);
    }

    #[test]
    fn companies() {
        assert_eq!(company("上海云帆科技有限公司"), company("上海云帆科技"));
        assert_eq!(company("Acme, Inc."), company("ACME"));
        assert_eq!(company("Acme Co., Ltd."), company("acme"));
        assert_ne!(company("Disco"), company("Dis"));
        assert_eq!(company("  "), None);
    }
}
