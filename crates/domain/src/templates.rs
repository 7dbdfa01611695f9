//! The process templates salesflow ships: the seed's five-stage process and others, each in
//! zh-CN and English. Files live in `crates/domain/templates/` and are embedded at build time.

use crate::process::ProcessDefinition;

const FILES: &[&str] = &[
    include_str!("../templates/seed-five-stage.zh-CN.json"),
    include_str!("../templates/seed-five-stage.en.json"),
    include_str!("../templates/saas-trial.zh-CN.json"),
    include_str!("../templates/saas-trial.en.json"),
    include_str!("../templates/project-tender.zh-CN.json"),
    include_str!("../templates/project-tender.en.json"),
];

/// Every shipped template, parsed. The files are checked by tests, so parsing cannot fail.
pub fn all() -> Vec<ProcessDefinition> {
    FILES.iter().map(|f| serde_json::from_str(f).expect("shipped templates parse")).collect()
}

pub fn get(key: &str) -> Option<ProcessDefinition> {
    all().into_iter().find(|t| t.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_is_valid() {
        for t in all() {
            assert_eq!(t.validate(), vec![], "template {}", t.key);
        }
    }

    #[test]
    fn keys_are_unique_and_languages_pair_up() {
        let all = all();
        let mut keys: Vec<_> = all.iter().map(|t| t.key.clone()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), all.len());
        for t in &all {
            let twin_key = match t.locale.as_str() {
                "zh-CN" => t.key.replace(".zh-CN", ".en"),
                _ => t.key.replace(".en", ".zh-CN"),
            };
            let twin = get(&twin_key).unwrap_or_else(|| panic!("{} has no twin {twin_key}", t.key));
            let ids = |p: &ProcessDefinition| p.nodes.iter().map(|n| n.id.clone()).collect::<Vec<_>>();
            assert_eq!(ids(t), ids(&twin), "{} and its twin have the same nodes", t.key);
        }
    }
}
