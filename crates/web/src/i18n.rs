//! The words of every screen in zh-CN and English. Each language is a value of one struct, so
//! a text missing in either language does not compile.

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

pub struct Texts {
    pub product: &'static str,
    pub sign_in: &'static str,
    pub sign_in_title: &'static str,
    pub sign_out: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub wrong_credentials: &'static str,
    pub form_expired: &'static str,
    pub throttled: &'static str,
    pub required: &'static str,
    pub signed_in_as: &'static str,
    pub role_admin: &'static str,
    pub role_manager: &'static str,
    pub role_rep: &'static str,
    pub role_viewer: &'static str,
    pub home_intro: &'static str,
    pub api_docs: &'static str,
}

pub static ZH_CN: Texts = Texts {
    product: "salesflow 销售流程",
    sign_in: "登录",
    sign_in_title: "登录 salesflow",
    sign_out: "退出登录",
    email: "邮箱",
    password: "密码",
    wrong_credentials: "邮箱或密码不正确。",
    form_expired: "登录表单已过期，请重新提交。",
    throttled: "登录失败次数过多，请 15 分钟后再试。",
    required: "此项为必填。",
    signed_in_as: "当前用户",
    role_admin: "管理员",
    role_manager: "销售经理",
    role_rep: "销售代表",
    role_viewer: "只读用户",
    home_intro: "销售流程、线索与商机都在这里。",
    api_docs: "API 文档",
};

pub static EN: Texts = Texts {
    product: "salesflow",
    sign_in: "Sign in",
    sign_in_title: "Sign in to salesflow",
    sign_out: "Sign out",
    email: "Email",
    password: "Password",
    wrong_credentials: "Wrong email or password.",
    form_expired: "The sign-in form expired; please submit it again.",
    throttled: "Too many failed sign-ins. Try again in 15 minutes.",
    required: "This field is required.",
    signed_in_as: "Signed in as",
    role_admin: "Admin",
    role_manager: "Manager",
    role_rep: "Sales rep",
    role_viewer: "Viewer",
    home_intro: "Your sales process, leads and deals live here.",
    api_docs: "API documentation",
};

impl Texts {
    pub fn role(&self, role: salesflow_domain::records::Role) -> &'static str {
        use salesflow_domain::records::Role;
        match role {
            Role::Admin => self.role_admin,
            Role::Manager => self.role_manager,
            Role::Rep => self.role_rep,
            Role::Viewer => self.role_viewer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
