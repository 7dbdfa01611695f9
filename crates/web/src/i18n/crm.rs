//! The crm screens' words.

#[derive(Debug)]
pub struct Crm {
    pub title: &'static str,
}

pub static ZH_CN: Crm = Crm { title: "客户管理" };

pub static EN: Crm = Crm { title: "CRM" };
