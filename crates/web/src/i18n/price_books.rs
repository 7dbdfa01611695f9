//! The words of the price books page. Placeholders in braces are filled in by the page.

use super::Locale;

#[derive(Debug)]
pub struct PriceBookTexts {
    pub title: &'static str,
    pub intro: &'static str,
    pub new_book: &'static str,
    pub none: &'static str,
    pub name: &'static str,
    pub name_fixed: &'static str,
    pub currency: &'static str,
    pub customer_group: &'static str,
    pub everyone: &'static str,
    pub group_hint: &'static str,
    pub entries: &'static str,
    pub entry_count: &'static str,
    pub sku: &'static str,
    pub price: &'static str,
    pub list_price: &'static str,
    pub rows_hint: &'static str,
    pub create: &'static str,
    pub save: &'static str,
    pub back: &'static str,
    pub read_only: &'static str,
    pub saved: &'static str,
    pub unknown_sku: &'static str,
    pub twice: &'static str,
    pub price_required: &'static str,
    pub bad_price: &'static str,
    pub sku_required: &'static str,
    pub exists: &'static str,
    pub stale: &'static str,
    pub forbidden: &'static str,
}

pub static ZH_CN: PriceBookTexts = PriceBookTexts {
    title: "价目表",
    intro: "按币种或客户分组定价。客户分组与价目表一致的客户，报价时默认使用该价目表；没有分组的价目表适用于同币种的所有客户。",
    new_book: "新建价目表",
    none: "还没有价目表。",
    name: "名称",
    name_fixed: "名称保存后不能修改。",
    currency: "币种",
    customer_group: "客户分组",
    everyone: "所有客户",
    group_hint: "留空表示适用于所有客户（如：经销商、教育）",
    entries: "价格",
    entry_count: "{n} 个产品",
    sku: "产品编码（SKU）",
    price: "单价",
    list_price: "目录价",
    rows_hint: "每行一个产品；编码和单价都留空的行会被忽略。",
    create: "创建价目表",
    save: "保存价目表",
    back: "返回价目表",
    read_only: "只有经理和管理员可以修改价目表。",
    saved: "价目表已保存。",
    unknown_sku: "第 {row} 行：产品目录中没有编码为“{sku}”的产品。",
    twice: "第 {row} 行：“{sku}”已在前面定价。",
    price_required: "第 {row} 行：请填写单价。",
    bad_price: "第 {row} 行：{why}",
    sku_required: "第 {row} 行：请填写产品编码。",
    exists: "已有同名的价目表，请换一个名称。",
    stale: "价目表在您打开后已被修改，您的输入已保留；请刷新后重试。",
    forbidden: "只有经理和管理员可以修改价目表。",
};

pub static EN: PriceBookTexts = PriceBookTexts {
    title: "Price books",
    intro: "Prices per currency or customer group. A quote for an account of a book's customer group starts from that book; a book without a group applies to every customer in its currency.",
    new_book: "New price book",
    none: "No price books yet.",
    name: "Name",
    name_fixed: "The name cannot change once saved.",
    currency: "Currency",
    customer_group: "Customer group",
    everyone: "Everyone",
    group_hint: "Leave empty for every customer (e.g. dealer, education)",
    entries: "Prices",
    entry_count: "{n} products",
    sku: "Product code (SKU)",
    price: "Unit price",
    list_price: "List price",
    rows_hint: "One product per row; rows with neither code nor price are ignored.",
    create: "Create price book",
    save: "Save price book",
    back: "Back to price books",
    read_only: "Only managers and admins change price books.",
    saved: "Price book saved.",
    unknown_sku: "Row {row}: the catalog has no product with the code “{sku}”.",
    twice: "Row {row}: “{sku}” is priced in an earlier row.",
    price_required: "Row {row}: enter a unit price.",
    bad_price: "Row {row}: {why}",
    sku_required: "Row {row}: enter a product code.",
    exists: "A price book with this name exists already; choose another name.",
    stale: "The price book changed since you opened it; your input is kept. Reload and try again.",
    forbidden: "Only managers and admins change price books.",
};

pub fn of(locale: Locale) -> &'static PriceBookTexts {
    match locale {
        Locale::ZhCn => &ZH_CN,
        Locale::En => &EN,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_languages_are_filled_in_and_differ() {
        let texts = |t: &super::PriceBookTexts| {
            format!("{t:?}").split('"').skip(1).step_by(2).map(str::to_string).collect::<Vec<_>>()
        };
        let (zh, en) = (texts(&super::ZH_CN), texts(&super::EN));
        assert_eq!(zh.len(), en.len());
        assert!(zh.iter().chain(&en).all(|s| !s.trim().is_empty()));
        assert!(zh.iter().zip(&en).filter(|(a, b)| a == b).count() == 0, "every text is translated");
    }
}
