//! The deal screens' words.

#[derive(Debug)]
pub struct DealTexts {
    pub title: &'static str,
}

pub static ZH_CN: DealTexts = DealTexts { title: "商机" };

pub static EN: DealTexts = DealTexts { title: "Deal" };
