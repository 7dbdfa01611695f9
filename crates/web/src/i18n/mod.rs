//! The words of every screen in zh-CN and English. Each language is a value of one struct, so
//! a text missing in either language does not compile.

pub mod analytics;
pub mod board;
pub mod common;
pub mod crm;
pub mod deal;
pub mod deal_forms;
pub mod price_books;
pub mod quote;

use axum::http::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    ZhCn,
    En,
}

impl Locale {
    pub fn tag(&self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }

    pub fn parse(tag: &str) -> Option<Locale> {
        let tag = tag.trim().to_ascii_lowercase();
        if tag.starts_with("zh") {
            Some(Locale::ZhCn)
        } else if tag.starts_with("en") {
            Some(Locale::En)
        } else {
            None
        }
    }

    /// The first supported language of `Accept-Language` in the client's order of preference;
    /// Chinese when none is.
    pub fn from_headers(headers: &HeaderMap) -> Locale {
        let header = headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mut choices: Vec<(f32, Locale)> = header
            .split(',')
            .filter_map(|item| {
                let mut bits = item.split(';');
                let locale = Locale::parse(bits.next()?)?;
                let q =
                    bits.find_map(|b| b.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
                Some((q, locale))
            })
            .collect();
        choices.sort_by(|a, b| b.0.total_cmp(&a.0));
        choices.first().map(|c| c.1).unwrap_or(Locale::ZhCn)
    }

    pub fn texts(&self) -> &'static Texts {
        match self {
            Locale::ZhCn => &ZH_CN,
            Locale::En => &EN,
        }
    }
}

/// Every text of every screen, by area. Each area is a struct with one value per language
/// (`i18n/<area>.rs`), so a text missing in either language does not compile.
pub struct Texts {
    pub common: &'static common::Common,
    pub board: &'static board::Board,
    pub deal: &'static deal::DealTexts,
    pub crm: &'static crm::Crm,
    pub quote: &'static quote::QuoteTexts,
    pub analytics: &'static analytics::Analytics,
}

pub static ZH_CN: Texts = Texts {
    common: &common::ZH_CN,
    board: &board::ZH_CN,
    deal: &deal::ZH_CN,
    crm: &crm::ZH_CN,
    quote: &quote::ZH_CN,
    analytics: &analytics::ZH_CN,
};

pub static EN: Texts = Texts {
    common: &common::EN,
    board: &board::EN,
    deal: &deal::EN,
    crm: &crm::EN,
    quote: &quote::EN,
    analytics: &analytics::EN,
};

#[cfg(test)]
mod tests {
    use super::*;

    /// Every text of both languages is filled in, and the two languages differ somewhere in
    /// each area (a copy-pasted language would not).
    #[test]
    fn both_languages_are_complete() {
        fn texts_of<T: std::fmt::Debug>(t: &T) -> Vec<String> {
            let dump = format!("{t:?}");
            dump.split('"').skip(1).step_by(2).map(str::to_string).collect()
        }
        for (zh, en) in [
            (texts_of(ZH_CN.common), texts_of(EN.common)),
            (texts_of(ZH_CN.board), texts_of(EN.board)),
            (texts_of(ZH_CN.deal), texts_of(EN.deal)),
            (texts_of(ZH_CN.crm), texts_of(EN.crm)),
            (texts_of(ZH_CN.quote), texts_of(EN.quote)),
            (texts_of(ZH_CN.analytics), texts_of(EN.analytics)),
        ] {
            assert_eq!(zh.len(), en.len());
            assert!(zh.iter().chain(&en).all(|s| !s.trim().is_empty()), "an empty text: {zh:?} {en:?}");
            assert_ne!(zh, en, "an area's two languages are identical");
        }
    }

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        let mut h = HeaderMap::new();
        assert_eq!(Locale::from_headers(&h), Locale::ZhCn);
        h.insert(axum::http::header::ACCEPT_LANGUAGE, "fr-FR, en-US;q=0.8, zh-CN;q=0.5".parse().unwrap());
        assert_eq!(Locale::from_headers(&h), Locale::En);
        h.insert(axum::http::header::ACCEPT_LANGUAGE, "zh-TW,zh;q=0.9,en;q=0.8".parse().unwrap());
        assert_eq!(Locale::from_headers(&h), Locale::ZhCn);
    }
}
