//! The board screens' words. `{n}`, `{from}`, `{to}`, `{stage}`, `{deal}` are filled in by
//! [`fill`].

#[derive(Debug)]
pub struct Board {
    pub title: &'static str,
    pub process: &'static str,
    pub show: &'static str,
    pub no_process: &'static str,
    pub start_from_template: &'static str,
    pub hint: &'static str,
    pub count: &'static str,
    pub amount: &'static str,
    pub weighted: &'static str,
    pub probability: &'static str,
    pub sla: &'static str,
    pub older_version: &'static str,
    pub loading: &'static str,
    pub more: &'static str,
    pub empty_column: &'static str,
    pub no_amount: &'static str,
    pub owner: &'static str,
    pub days_in_stage: &'static str,
    pub overdue_by: &'static str,
    pub move_to: &'static str,
    pub move_button: &'static str,
    pub gate_title: &'static str,
    pub hard: &'static str,
    pub soft: &'static str,
    pub fill_in: &'static str,
    pub open_deal: &'static str,
    pub override_title: &'static str,
    pub override_reason: &'static str,
    pub override_submit: &'static str,
    pub lost_title: &'static str,
    pub lost_reason: &'static str,
    pub lost_submit: &'static str,
    pub no_route: &'static str,
    pub allowed: &'static str,
    pub none: &'static str,
    pub closed: &'static str,
    pub choose_route: &'static str,
    pub conflict: &'static str,
    pub reload: &'static str,
    pub moved: &'static str,
    pub close: &'static str,
    pub invalid: &'static str,
    pub network_error: &'static str,
    pub unknown_user: &'static str,
}

pub static ZH_CN: Board = Board {
    title: "销售管道",
    process: "销售流程",
    show: "查看",
    no_process: "还没有已发布的销售流程，看板需要一个流程来划分阶段。",
    start_from_template: "从模板创建销售流程",
    hint: "把卡片拖到其他列即可推进商机；也可以使用卡片上的“移至”下拉框。只能沿流程中的路径移动。",
    count: "商机数",
    amount: "金额",
    weighted: "加权金额",
    probability: "赢率 {n}%",
    sla: "时限 {n} 天",
    older_version: "旧版本流程中的阶段",
    loading: "加载中…",
    more: "加载更多",
    empty_column: "暂无商机",
    no_amount: "未填写金额",
    owner: "负责人",
    days_in_stage: "停留 {n} 天",
    overdue_by: "超期 {n} 天",
    move_to: "移至",
    move_button: "移动",
    gate_title: "商机「{deal}」还不能离开「{stage}」，以下退出条件尚未满足：",
    hard: "必须满足",
    soft: "可说明理由跳过",
    fill_in: "去填写",
    open_deal: "打开商机补充信息",
    override_title: "商机「{deal}」只差以下非强制条件，说明理由后即可移至「{to}」：",
    override_reason: "跳过理由",
    override_submit: "说明理由并移动",
    lost_title: "把商机「{deal}」标记为输单，需要填写输单原因：",
    lost_reason: "输单原因",
    lost_submit: "确认输单",
    no_route: "流程中没有从「{from}」到「{to}」的路径，商机未移动。",
    allowed: "可以移至：",
    none: "无",
    closed: "商机「{deal}」已结束（{stage}），不能再移动。",
    choose_route: "有多条路径可以到达「{to}」，请选择一条：",
    conflict: "商机「{deal}」刚被他人修改，商机未移动。请刷新看板后重试。",
    reload: "刷新看板",
    moved: "已将「{deal}」移至「{to}」。",
    close: "关闭",
    invalid: "商机未移动：",
    network_error: "网络错误，商机未移动，请重试。",
    unknown_user: "未知用户",
};

pub static EN: Board = Board {
    title: "Pipeline",
    process: "Process",
    show: "Show",
    no_process: "There is no published process yet; the board needs one for its stages.",
    start_from_template: "Start a process from a template",
    hint: "Drag a card to another column to move the deal, or use “Move to” on the card. Deals move only along the paths of the process.",
    count: "Deals",
    amount: "Amount",
    weighted: "Weighted",
    probability: "{n}% win probability",
    sla: "SLA {n} d",
    older_version: "Stage of an older process version",
    loading: "Loading…",
    more: "Load more",
    empty_column: "No deals",
    no_amount: "No amount yet",
    owner: "Owner",
    days_in_stage: "{n} d in stage",
    overdue_by: "{n} d past SLA",
    move_to: "Move to",
    move_button: "Move",
    gate_title: "“{deal}” cannot leave “{stage}” yet. These exit criteria are not met:",
    hard: "required",
    soft: "can be skipped with a reason",
    fill_in: "Fill in",
    open_deal: "Open the deal to complete it",
    override_title: "“{deal}” only misses these optional criteria; give a reason to move it to “{to}” anyway:",
    override_reason: "Reason for skipping",
    override_submit: "Move with this reason",
    lost_title: "Marking “{deal}” as lost needs a reason:",
    lost_reason: "Why was the deal lost?",
    lost_submit: "Mark as lost",
    no_route: "The process has no path from “{from}” to “{to}”; the deal was not moved.",
    allowed: "It can move to:",
    none: "nothing",
    closed: "“{deal}” is closed ({stage}) and cannot move any more.",
    choose_route: "Several paths lead to “{to}”; choose one:",
    conflict: "Someone else just changed “{deal}”; it was not moved. Reload the board and try again.",
    reload: "Reload the board",
    moved: "Moved “{deal}” to “{to}”.",
    close: "Close",
    invalid: "The deal was not moved:",
    network_error: "Network error: the deal was not moved. Please try again.",
    unknown_user: "Unknown user",
};

/// A text with its `{name}` placeholders replaced.
pub fn fill(text: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(text.to_string(), |acc, (name, value)| acc.replace(&format!("{{{name}}}"), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_both_languages_use_the_same_ones() {
        assert_eq!(fill(ZH_CN.days_in_stage, &[("n", "5")]), "停留 5 天");
        assert_eq!(fill(EN.moved, &[("deal", "A"), ("to", "B")]), "Moved “A” to “B”.");
        let placeholders = |t: &Board| {
            let dump = format!("{t:?}");
            let mut found: Vec<String> = dump
                .split('{')
                .skip(1)
                .filter_map(|s| s.split_once('}').map(|(name, _)| name.to_string()))
                .filter(|name| name.chars().all(|c| c.is_ascii_lowercase()))
                .collect();
            found.sort();
            found
        };
        assert_eq!(placeholders(&ZH_CN), placeholders(&EN));
    }
}
