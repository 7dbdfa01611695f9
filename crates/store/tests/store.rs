//! The behaviour suite of the `Store` port, run against every backend `stores()` yields:
//! SQLite always, PostgreSQL whenever its binaries are installed (and necessarily when
//! `SALESFLOW_REQUIRE_POSTGRES=1`). Every test loops over the backends and labels its
//! assertions with the backend's name, so a failure says which database disagrees.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use salesflow_domain::Error;
use salesflow_domain::access::Scope;
use salesflow_domain::currency::{Currency, Money};
use salesflow_domain::error::Result;
use salesflow_domain::gate::GateReport;
use salesflow_domain::ids::*;
use salesflow_domain::process::{Gate, NodeKind};
use salesflow_domain::records::*;
use salesflow_domain::store::{DealTotals, HistoryBatch, StageTotals, Store, VersionStatus};
use salesflow_testkit::{TestStore, at, seed_five_stage, seed_user, stores};
use serde_json::json;

// ---------------------------------------------------------------------------------------------
// Helpers

/// One backend with a user and the published seed process.
struct Fx {
    ts: TestStore,
    actor: Actor,
    process: ProcessId,
}

impl Fx {
    fn s(&self) -> &dyn Store {
        &*self.ts.store
    }
    fn b(&self) -> &str {
        &self.ts.name
    }
}

async fn fixtures() -> Vec<Fx> {
    let mut out = Vec::new();
    for ts in stores().await {
        let actor = seed_user(&*ts.store, Role::Rep).await;
        let process = seed_five_stage(&*ts.store).await;
        out.push(Fx { ts, actor, process });
    }
    out
}

#[track_caller]
fn invalid<T: Debug>(b: &str, r: Result<T>, field: &str) -> Vec<salesflow_domain::FieldError> {
    match r {
        Err(Error::Invalid(errs)) => {
            assert!(errs.iter().any(|e| e.field == field), "[{b}] expected Invalid naming `{field}`, got {errs:?}");
            errs
        }
        other => panic!("[{b}] expected Invalid naming `{field}`, got {other:?}"),
    }
}

#[track_caller]
fn conflict<T: Debug>(b: &str, r: Result<T>) {
    match r {
        Err(Error::Conflict(_)) => {}
        other => panic!("[{b}] expected Conflict, got {other:?}"),
    }
}

#[track_caller]
fn not_found<T: Debug>(b: &str, r: Result<T>) {
    match r {
        Err(Error::NotFound { .. }) => {}
        other => panic!("[{b}] expected NotFound, got {other:?}"),
    }
}

#[track_caller]
fn gate_blocked<T: Debug>(b: &str, r: Result<T>) -> GateReport {
    match r {
        Err(Error::GateBlocked(report)) => report,
        other => panic!("[{b}] expected GateBlocked, got {other:?}"),
    }
}

fn cny(minor: i64) -> Money {
    Money { minor, currency: Currency::CNY }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn all() -> PageRequest {
    PageRequest { limit: PageRequest::MAX_LIMIT, after: None }
}

fn new_account(name: &str) -> NewAccount {
    NewAccount {
        name: name.into(),
        industry: "制造业".into(),
        region: "华东".into(),
        website: String::new(),
        customer_group: String::new(),
        owner_id: None,
    }
}

fn new_contact(account: Option<AccountId>, name: &str, email: Option<&str>, phone: Option<&str>) -> NewContact {
    NewContact {
        account_id: account,
        name: name.into(),
        title: "采购经理".into(),
        email: email.map(Into::into),
        phone: phone.map(Into::into),
        wechat_id: None,
        preferred_channel: Some(PreferredChannel::Wechat),
        consent: Consent { email: true, ..Consent::default() },
        owner_id: None,
    }
}

fn new_lead(name: &str, company: &str, email: Option<&str>, phone: Option<&str>, channel: Channel) -> NewLead {
    NewLead {
        name: name.into(),
        company: company.into(),
        email: email.map(Into::into),
        phone: phone.map(Into::into),
        channel,
        owner_id: None,
        notes: String::new(),
    }
}

fn new_deal(title: &str, account: AccountId, contacts: Vec<ContactId>, process: ProcessId) -> NewDeal {
    NewDeal {
        title: title.into(),
        account_id: account,
        contact_ids: contacts,
        owner_id: None,
        process_id: process,
        amount: None,
        expected_close_date: None,
        probability: None,
        needs_summary: String::new(),
        channel: Some(Channel::TradeShow),
        occurred_at: None,
    }
}

fn mv(to: &str, version: i64) -> MoveRequest {
    MoveRequest { to: to.into(), edge: None, version, occurred_at: None, override_reason: None, lost_reason: None }
}

fn lose(version: i64, reason: &str) -> MoveRequest {
    MoveRequest { lost_reason: Some(reason.into()), ..mv("lost", version) }
}

fn tick(step: &str, version: i64) -> StepToggle {
    StepToggle { step: step.into(), done: true, version, occurred_at: None }
}

fn q(version: i64, reason: Option<&str>) -> Qualification {
    Qualification { version, reason: reason.map(Into::into) }
}

/// An account with one contact and a fresh deal on it, in the entry stage.
async fn deal_with_contact(fx: &Fx, title: &str, now: DateTime<Utc>) -> (Account, Contact, Deal) {
    let (s, b) = (fx.s(), fx.b());
    let account = s.create_account(&new_account(&format!("{title} 公司")), fx.actor.user, now).await.expect(b);
    let contact = s
        .create_contact(&new_contact(Some(account.id), "王芳", Some("wang.fang@example.com"), None), fx.actor.user, now)
        .await
        .expect(b);
    let deal =
        s.create_deal(&new_deal(title, account.id, vec![contact.id], fx.process), &fx.actor, now).await.expect(b);
    (account, contact, deal)
}

async fn counts(fx: &Fx) -> (usize, usize, usize, usize) {
    let s = fx.s();
    (
        s.list_accounts(&AccountFilter::default(), &Scope::admin(fx.actor.user), all()).await.unwrap().items.len(),
        s.list_contacts(&ContactFilter::default(), &Scope::admin(fx.actor.user), all()).await.unwrap().items.len(),
        s.list_leads(&LeadFilter::default(), &Scope::admin(fx.actor.user), all()).await.unwrap().items.len(),
        s.list_deals(&DealFilter::default(), &Scope::admin(fx.actor.user), all()).await.unwrap().items.len(),
    )
}

/// Walks every page of `limit` rows and returns the ids in the order seen.
async fn walk_pages<T, F, Fut>(limit: u32, mut fetch: F, id: impl Fn(&T) -> i64) -> (Vec<i64>, usize)
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>>>,
{
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut after = None;
    loop {
        let page = fetch(PageRequest { limit, after }).await.expect("page");
        pages += 1;
        assert!(page.items.len() <= limit as usize, "a page holds at most `limit` rows");
        ids.extend(page.items.iter().map(&id));
        match page.next_cursor {
            Some(c) => {
                assert_eq!(Some(c), page.items.last().map(&id), "the cursor is the last row's id");
                after = Some(c);
            }
            None => break,
        }
        assert!(pages < 100, "pagination does not end");
    }
    (ids, pages)
}

#[track_caller]
fn assert_newest_first_no_duplicates(b: &str, ids: &[i64], expected: &BTreeSet<i64>) {
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "[{b}] pages are newest first without repeats: {ids:?}");
    assert_eq!(&ids.iter().copied().collect::<BTreeSet<_>>(), expected, "[{b}] every row exactly once");
}

fn kinds(events: &[DealEvent]) -> Vec<EventKind> {
    events.iter().map(|e| e.kind).collect()
}

#[track_caller]
fn assert_seq_contiguous(b: &str, events: &[DealEvent]) {
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>(), "[{b}] events are numbered 1..n in order");
    assert!(
        events.windows(2).all(|w| w[0].occurred_at <= w[1].occurred_at),
        "[{b}] business time never goes backwards"
    );
}

fn migrations_dir(backend: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend)
}

fn migration_files(backend: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(migrations_dir(backend))
        .unwrap_or_else(|e| panic!("read {backend} migrations: {e}"))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn migration_version(file: &str) -> i64 {
    let digits: String = file.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().unwrap_or_else(|_| panic!("migration `{file}` does not start with a version number"))
}

// ---------------------------------------------------------------------------------------------
// Migrations

#[test]
fn migration_folders_have_the_same_files() {
    let sqlite = migration_files("sqlite");
    let postgres = migration_files("postgres");
    assert!(!sqlite.is_empty(), "there are migrations");
    assert_eq!(sqlite, postgres, "both backends have migrations with the same file names");
    for f in &sqlite {
        assert!(f.ends_with(".sql"), "`{f}` is a .sql file");
    }
    let versions: Vec<i64> = sqlite.iter().map(|f| migration_version(f)).collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "versions are unique and increasing: {versions:?}");
}

#[tokio::test]
async fn applied_migrations_are_the_same_on_every_backend() {
    let expected: Vec<i64> = migration_files("sqlite").iter().map(|f| migration_version(f)).collect();
    let mut seen = BTreeMap::new();
    for ts in stores().await {
        let s = &*ts.store;
        assert_eq!(s.backend(), ts.name, "backend() names the backend");
        let applied = s.applied_migrations().await.expect(&ts.name);
        assert_eq!(applied, expected, "[{}] every migration applied, in order", ts.name);
        // Migrating again is a no-op.
        s.migrate().await.expect(&ts.name);
        assert_eq!(s.applied_migrations().await.unwrap(), expected, "[{}] second migrate", ts.name);
        seen.insert(ts.name.clone(), applied);
    }
    let lists: BTreeSet<_> = seen.values().collect();
    assert_eq!(lists.len(), 1, "all backends report the same migrations: {seen:?}");
}

// ---------------------------------------------------------------------------------------------
// Users and tokens

#[tokio::test]
async fn users_emails_and_tokens() {
    for ts in stores().await {
        let (s, b) = (&*ts.store, ts.name.as_str());
        let new = NewUser {
            name: "  李伟 ".into(),
            email: " Li.Wei@Example.com ".into(),
            locale: "zh-CN".into(),
            time_zone: "Asia/Shanghai".into(),
            role: Role::Manager,
            password_hash: None,
        };
        let u = s.create_user(&new, at(0)).await.expect(b);
        assert_eq!((u.name.as_str(), u.email.as_str()), ("李伟", "li.wei@example.com"), "[{b}] trimmed, normalised");
        assert_eq!((u.role, u.active, u.locale.as_str()), (Role::Manager, true, "zh-CN"), "[{b}]");
        assert_eq!(s.user(u.id).await.expect(b), u, "[{b}] read back");
        assert_eq!(s.user_by_email("LI.WEI@example.COM").await.expect(b), Some(u.clone()), "[{b}] by email");
        assert_eq!(s.user_by_email("nobody@example.com").await.expect(b), None, "[{b}]");
        assert_eq!(s.user_by_email("not an email").await.expect(b), None, "[{b}]");

        let dup = NewUser { email: "li.wei@EXAMPLE.com".into(), name: "Another".into(), ..new.clone() };
        invalid(b, s.create_user(&dup, at(1)).await, "email");
        invalid(b, s.create_user(&NewUser { email: "nope".into(), ..new.clone() }, at(1)).await, "email");
        invalid(
            b,
            s.create_user(&NewUser { locale: "fr".into(), email: "x@example.com".into(), ..new.clone() }, at(1)).await,
            "locale",
        );
        not_found(b, s.user(UserId(9_999)).await);

        let other = seed_user(s, Role::Rep).await;
        let users = s.list_users().await.expect(b);
        assert_eq!(users.iter().map(|u| u.id).collect::<Vec<_>>(), vec![u.id, other.user], "[{b}] by id");

        let token = NewApiToken {
            user_id: u.id,
            token_hash: "hash-abc".into(),
            label: "CLI".into(),
            scope: TokenScope::ReadWrite,
            expires_at: None,
        };
        s.create_api_token(&token, at(2)).await.expect(b);
        let found = s.authenticate_token("hash-abc", at(3)).await.expect(b);
        assert_eq!(found.map(|(_, user)| user), Some(u.clone()), "[{b}] token finds its user");
        assert_eq!(s.authenticate_token("hash-unknown", at(3)).await.expect(b), None, "[{b}] unknown token");
        // A token hash is unique.
        let again = NewApiToken { user_id: other.user, label: "again".into(), ..token.clone() };
        assert!(s.create_api_token(&again, at(4)).await.is_err(), "[{b}] duplicate token hash");
        let found = s.authenticate_token("hash-abc", at(5)).await.expect(b);
        assert_eq!(found.map(|(_, user)| user.id), Some(u.id), "[{b}]");
    }
}

// ---------------------------------------------------------------------------------------------
// Processes

#[tokio::test]
async fn process_versions_draft_publish_and_immutability() {
    for ts in stores().await {
        let (s, b) = (&*ts.store, ts.name.as_str());
        let template = salesflow_domain::templates::get("seed-five-stage.zh-CN").unwrap();
        let v1 = s.create_process(&template, at(0)).await.expect(b);
        assert_eq!((v1.version, v1.status, v1.published_at), (1, VersionStatus::Draft, None), "[{b}] draft v1");
        assert_eq!(v1.definition, template, "[{b}] definition stored as given");
        let id = v1.process_id;
        invalid(b, s.latest_published(id).await, "process_id");
        invalid(b, s.create_process(&template, at(0)).await, "key");
        let listed = s.list_processes().await.expect(b);
        assert_eq!(listed.len(), 1, "[{b}]");
        assert_eq!((listed[0].latest_version, listed[0].published_version), (1, None), "[{b}]");
        assert_eq!(listed[0].key, "seed-five-stage.zh-CN", "[{b}]");

        // A draft may hold an invalid definition; publishing it is refused and changes nothing.
        let mut broken = template.clone();
        broken.nodes.retain(|n| n.kind != NodeKind::Won);
        broken.edges.retain(|e| e.to != "won");
        broken.name = "改过的名字".into();
        let saved = s.save_draft(id, 1, &broken, at(1)).await.expect(b);
        assert_eq!(saved.definition, broken, "[{b}] draft saved");
        match s.publish(id, 1, at(2)).await {
            Err(Error::ProcessInvalid(issues)) => {
                assert!(issues.iter().any(|i| i.code == "terminal_missing"), "[{b}] names the problem: {issues:?}")
            }
            other => panic!("[{b}] expected ProcessInvalid, got {other:?}"),
        }
        let still = s.process_version(id, 1).await.expect(b);
        assert_eq!(
            (still.status, still.published_at, &still.definition),
            (VersionStatus::Draft, None, &broken),
            "[{b}]"
        );
        assert_eq!(s.list_processes().await.unwrap()[0].published_version, None, "[{b}] nothing published");
        assert_eq!(s.list_processes().await.unwrap()[0].name, "改过的名字", "[{b}] the name follows the draft");
        invalid(
            b,
            s.save_draft(
                id,
                1,
                &salesflow_domain::process::ProcessDefinition { key: "other".into(), ..broken.clone() },
                at(2),
            )
            .await,
            "key",
        );

        // Fixed and published: frozen.
        s.save_draft(id, 1, &template, at(3)).await.expect(b);
        let published = s.publish(id, 1, at(4)).await.expect(b);
        assert_eq!((published.status, published.published_at), (VersionStatus::Published, Some(at(4))), "[{b}]");
        conflict(b, s.save_draft(id, 1, &broken, at(5)).await);
        conflict(b, s.publish(id, 1, at(5)).await);
        let v = s.process_version(id, 1).await.expect(b);
        assert_eq!(v.definition, template, "[{b}] published definition unchanged");
        assert_eq!(s.latest_published(id).await.expect(b).version, 1, "[{b}]");

        // The next version starts as a draft; the published one stays current until it is published.
        let mut next = template.clone();
        next.description = "第二版".into();
        let v2 = s.new_draft(id, &next, at(6)).await.expect(b);
        assert_eq!((v2.version, v2.status), (2, VersionStatus::Draft), "[{b}] v2 draft");
        invalid(
            b,
            s.new_draft(
                id,
                &salesflow_domain::process::ProcessDefinition { key: "other".into(), ..next.clone() },
                at(6),
            )
            .await,
            "key",
        );
        assert_eq!(s.latest_published(id).await.expect(b).version, 1, "[{b}] v1 still current");
        let listed = s.list_processes().await.expect(b);
        assert_eq!((listed[0].latest_version, listed[0].published_version), (2, Some(1)), "[{b}]");
        let versions = s.process_versions(id).await.expect(b);
        assert_eq!(
            versions.iter().map(|v| (v.version, v.status)).collect::<Vec<_>>(),
            vec![(1, VersionStatus::Published), (2, VersionStatus::Draft)],
            "[{b}]"
        );
        s.publish(id, 2, at(7)).await.expect(b);
        let latest = s.latest_published(id).await.expect(b);
        assert_eq!((latest.version, latest.definition.description.as_str()), (2, "第二版"), "[{b}]");

        not_found(b, s.process_versions(ProcessId(9_999)).await);
        not_found(b, s.latest_published(ProcessId(9_999)).await);
        not_found(b, s.process_version(id, 42).await);
    }
}

/// Node positions from the editor are part of the definition: a draft saves and reads them
/// back, publishing keeps them, and a later draft's new positions leave the published version's
/// alone.
#[tokio::test]
async fn process_drafts_keep_node_positions_through_publishing() {
    use salesflow_domain::process::Position;
    for ts in stores().await {
        let (s, b) = (&*ts.store, ts.name.as_str());
        let template = salesflow_domain::templates::get("seed-five-stage.en").unwrap();
        let v1 = s.create_process(&template, at(0)).await.expect(b);
        let id = v1.process_id;
        assert!(v1.definition.positions.is_empty(), "[{b}]");

        let mut placed = template.clone();
        for (i, n) in placed.nodes.iter().enumerate() {
            placed
                .positions
                .insert(n.id.clone(), Position { x: 40.5 + i as f64 * 200.0, y: -12.25 + (i % 3) as f64 * 90.0 });
        }
        let saved = s.save_draft(id, 1, &placed, at(1)).await.expect(b);
        assert_eq!(saved.definition.positions, placed.positions, "[{b}] saved");
        let read = s.process_version(id, 1).await.expect(b);
        assert_eq!(read.definition, placed, "[{b}] read back with the positions");

        let published = s.publish(id, 1, at(2)).await.expect(b);
        assert_eq!(published.definition.positions, placed.positions, "[{b}] published with them");
        assert_eq!(s.latest_published(id).await.expect(b).definition, placed, "[{b}]");

        // The next draft starts from the published positions; moving a node there leaves v1 as it was.
        let mut moved = placed.clone();
        moved.positions.insert("won".into(), Position { x: 5000.0, y: 700.0 });
        let v2 = s.new_draft(id, &placed, at(3)).await.expect(b);
        assert_eq!(v2.definition.positions, placed.positions, "[{b}]");
        s.save_draft(id, 2, &moved, at(4)).await.expect(b);
        assert_eq!(
            s.process_version(id, 2).await.expect(b).definition.positions["won"],
            Position { x: 5000.0, y: 700.0 }
        );
        assert_eq!(s.process_version(id, 1).await.expect(b).definition, placed, "[{b}] v1 unchanged");
        conflict(b, s.save_draft(id, 1, &moved, at(5)).await);
    }
}

// ---------------------------------------------------------------------------------------------
// Accounts, contacts, leads

#[tokio::test]
async fn accounts_create_update_list_and_search() {
    for fx in fixtures().await {
        let (s, b) = (fx.s(), fx.b());
        let other = seed_user(s, Role::Rep).await;
        let names = [
            "上海云帆科技有限公司",
            "Acme Corp",
            "北京星辰软件",
            "100% Cotton Ltd",
            "深圳海风贸易",
            "under_score",
            "广州云帆物流",
        ];
        let mut ids = BTreeSet::new();
        for (i, name) in names.iter().enumerate() {
            let owner = if i % 2 == 0 { fx.actor.user } else { other.user };
            let a = s.create_account(&new_account(&format!("  {name} ")), owner, at(i as i64)).await.expect(b);
            assert_eq!((a.name.as_str(), a.version, a.owner_id), (*name, 1, owner), "[{b}] trimmed, version 1");
            assert_eq!(s.account(a.id).await.expect(b), a, "[{b}] read back");
            ids.insert(a.id.0);
        }
        invalid(b, s.create_account(&new_account("  "), fx.actor.user, at(9)).await, "name");
        invalid(b, s.create_account(&new_account("——"), fx.actor.user, at(9)).await, "name");
        invalid(b, s.create_account(&new_account("X"), UserId(9_999), at(9)).await, "owner_id");
        not_found(b, s.account(AccountId(9_999)).await);

        let no_filter = AccountFilter::default();
        let every = Scope::admin(fx.actor.user);
        let (seen, pages) = walk_pages(3, |p| s.list_accounts(&no_filter, &every, p), |a: &Account| a.id.0).await;
        assert_eq!(pages, 3, "[{b}] 7 rows in pages of 3");
        assert_newest_first_no_duplicates(b, &seen, &ids);

        let mine = s
            .list_accounts(&AccountFilter { owner: Some(other.user), text: None }, &Scope::admin(fx.actor.user), all())
            .await
            .expect(b);
        assert_eq!(mine.items.len(), 3, "[{b}] owner filter");
        assert!(mine.items.iter().all(|a| a.owner_id == other.user), "[{b}]");

        let search = |t: &str| AccountFilter { owner: None, text: Some(t.into()) };
        let names_of = |p: Page<Account>| p.items.into_iter().map(|a| a.name).collect::<Vec<_>>();
        assert_eq!(
            names_of(s.list_accounts(&search("云帆"), &Scope::admin(fx.actor.user), all()).await.expect(b)),
            vec!["广州云帆物流", "上海云帆科技有限公司"],
            "[{b}] Chinese text"
        );
        assert_eq!(
            names_of(s.list_accounts(&search("ACME"), &Scope::admin(fx.actor.user), all()).await.expect(b)),
            vec!["Acme Corp"],
            "[{b}] case-insensitive"
        );
        assert_eq!(
            names_of(s.list_accounts(&search("%"), &Scope::admin(fx.actor.user), all()).await.expect(b)),
            vec!["100% Cotton Ltd"],
            "[{b}] % is literal"
        );
        assert_eq!(
            names_of(s.list_accounts(&search("_"), &Scope::admin(fx.actor.user), all()).await.expect(b)),
            vec!["under_score"],
            "[{b}] _ is literal"
        );
        assert_eq!(
            names_of(
                s.list_accounts(&search("云帆"), &Scope::admin(fx.actor.user), PageRequest { limit: 1, after: None })
                    .await
                    .expect(b)
            ),
            vec!["广州云帆物流"],
            "[{b}]"
        );

        // Optimistic locking.
        let a = s.list_accounts(&search("北京"), &Scope::admin(fx.actor.user), all()).await.unwrap().items.remove(0);
        let patch = AccountPatch {
            version: 1,
            name: Some("北京星辰软件股份有限公司".into()),
            region: Some("华北".into()),
            ..Default::default()
        };
        let updated = s.update_account(a.id, &patch, at(20)).await.expect(b);
        assert_eq!(
            (updated.version, updated.name.as_str(), updated.region.as_str()),
            (2, "北京星辰软件股份有限公司", "华北"),
            "[{b}]"
        );
        assert_eq!(
            (updated.industry.as_str(), updated.created_at, updated.updated_at),
            (a.industry.as_str(), a.created_at, at(20)),
            "[{b}]"
        );
        let stale = AccountPatch { version: 1, name: Some("被覆盖".into()), ..Default::default() };
        conflict(b, s.update_account(a.id, &stale, at(21)).await);
        assert_eq!(s.account(a.id).await.expect(b), updated, "[{b}] a stale update changes nothing");
        invalid(
            b,
            s.update_account(
                a.id,
                &AccountPatch { version: 2, owner_id: Some(UserId(9_999)), ..Default::default() },
                at(22),
            )
            .await,
            "owner_id",
        );
        invalid(
            b,
            s.update_account(a.id, &AccountPatch { version: 2, name: Some(" ".into()), ..Default::default() }, at(22))
                .await,
            "name",
        );
        not_found(
            b,
            s.update_account(AccountId(9_999), &AccountPatch { version: 1, ..Default::default() }, at(22)).await,
        );
    }
}

#[tokio::test]
async fn accounts_keep_their_customer_group() {
    for fx in fixtures().await {
        let (s, b) = (fx.s(), fx.b());
        let new = NewAccount { customer_group: " 经销商 ".into(), ..new_account("杭州西湖经销有限公司") };
        let a = s.create_account(&new, fx.actor.user, at(1)).await.expect(b);
        assert_eq!(a.customer_group, "经销商", "[{b}] trimmed");
        assert_eq!(s.account(a.id).await.expect(b).customer_group, "经销商", "[{b}] read back");
        let listed = s.list_accounts(&AccountFilter::default(), &Scope::admin(fx.actor.user), all()).await.expect(b);
        assert_eq!(listed.items.iter().find(|x| x.id == a.id).unwrap().customer_group, "经销商", "[{b}] listed");

        // A patch without the group keeps it; an empty one removes it.
        let renamed = AccountPatch { version: 1, region: Some("华东".into()), ..Default::default() };
        let a = s.update_account(a.id, &renamed, at(2)).await.expect(b);
        assert_eq!(a.customer_group, "经销商", "[{b}] kept");
        let moved = AccountPatch { version: 2, customer_group: Some("education".into()), ..Default::default() };
        assert_eq!(s.update_account(a.id, &moved, at(3)).await.expect(b).customer_group, "education", "[{b}]");
        let cleared = AccountPatch { version: 3, customer_group: Some(String::new()), ..Default::default() };
        s.update_account(a.id, &cleared, at(4)).await.expect(b);
        assert_eq!(s.account(a.id).await.expect(b).customer_group, "", "[{b}] removed");
        let long = NewAccount { customer_group: "组".repeat(300), ..new_account("太长的分组") };
        invalid(b, s.create_account(&long, fx.actor.user, at(5)).await, "customer_group");
    }
}

#[tokio::test]
async fn events_since_a_mark_and_the_ids_asked_for_again() {
    for fx in fixtures().await {
        let (s, b) = (fx.s(), fx.b());
        let (_, _, first) = deal_with_contact(&fx, "事件一", at(1)).await;
        let mark = s.max_ids().await.expect(b).event;
        let (_, _, second) = deal_with_contact(&fx, "事件二", at(2)).await;
        let found = s.events_since(mark, &[]).await.expect(b);
        assert!(!found.is_empty() && found.iter().all(|m| m.id > mark && m.deal == second.id), "[{b}] {found:?}");
        assert!(found.iter().all(|m| m.process == fx.process), "[{b}]");
        // An id at or below the mark asked for again comes back with the new ones, in id order.
        let old = s.deal_events(first.id).await.expect(b)[0].id;
        let again = s.events_since(mark, &[old, 999_999_999]).await.expect(b);
        assert_eq!(again[0].id, old, "[{b}] {again:?}");
        assert_eq!(again[0].deal, first.id, "[{b}]");
        assert_eq!(again.len(), found.len() + 1, "[{b}] an id that does not exist is simply absent");
        assert!(again.windows(2).all(|w| w[0].id < w[1].id), "[{b}]");
    }
}

#[tokio::test]
async fn accounts_are_found_by_their_normalised_name() {
    for fx in fixtures().await {
        let (s, b) = (fx.s(), fx.b());
        let a = s.create_account(&new_account("宁波港湾物流有限公司"), fx.actor.user, at(1)).await.expect(b);
        s.create_account(&new_account("宁波港湾物流有限公司"), fx.actor.user, at(2)).await.expect(b);
        let found = s.account_named("  宁波港湾物流 有限公司 ").await.expect(b).map(|x| x.id);
        assert_eq!(found, Some(a.id), "[{b}] the oldest, however the name is spaced");
        assert_eq!(s.account_named("宁波港湾").await.expect(b), None, "[{b}] no partial match");
        assert_eq!(s.account_named("  ").await.expect(b), None, "[{b}]");
    }
}

#[tokio::test]
async fn contacts_create_update_list_and_search() {
    for fx in fixtures().await {
        let (s, b) = (fx.s(), fx.b());
        let acme = s.create_account(&new_account("Acme"), fx.actor.user, at(0)).await.expect(b);
        let yunfan = s.create_account(&new_account("上海云帆科技"), fx.actor.user, at(0)).await.expect(b);
        let people = [
            ("张伟", Some(" Zhang.Wei@Acme.com "), Some("+86 139-0000-0001"), acme.id),
            ("李娜", Some("li.na@acme.com"), None, acme.id),
            ("王强", None, Some("021 6666 8888"), yunfan.id),
            ("陈静", Some("chen.jing@yunfan.cn"), None, yunfan.id),
            ("刘洋", None, None, yunfan.id),
            ("Mary Smith", Some("mary@example.com"), None, acme.id),
            ("赵敏", Some("zhao.min@yunfan.cn"), None, yunfan.id),
        ];
        let mut ids = BTreeSet::new();
        for (i, (name, email, phone, account)) in people.iter().enumerate() {
            let c = s
                .create_contact(&new_contact(Some(*account), name, *email, *phone), fx.actor.user, at(i as i64))
                .await
                .expect(b);
            assert_eq!(c.email.as_deref(), email.map(str::trim), "[{b}] email trimmed, case kept");
            assert_eq!(
                (c.account_id, c.version, c.consent.email, c.preferred_channel),
                (Some(*account), 1, true, Some(PreferredChannel::Wechat)),
                "[{b}]"
            );
            assert_eq!(s.contact(c.id).await.expect(b), c, "[{b}] read back");
            ids.insert(c.id.0);
        }
        invalid(
            b,
            s.create_contact(&new_contact(None, "坏邮箱", Some("not-mail"), None), fx.actor.user, at(9)).await,
            "email",
        );
        invalid(
            b,
            s.create_contact(&new_contact(None, "坏电话", None, Some("电话")), fx.actor.user, at(9)).await,
            "phone",
        );
        invalid(
            b,
            s.create_contact(&new_contact(Some(AccountId(9_999)), "无公司", None, None), fx.actor.user, at(9)).await,
            "account_id",
        );
        not_found(b, s.contact(ContactId(9_999)).await);
        let blank =
            s.create_contact(&new_contact(None, "空白", Some("  "), Some("")), fx.actor.user, at(9)).await.expect(b);
        assert_eq!((blank.email, blank.phone, blank.account_id), (None, None, None), "[{b}] blanks are absent");
        ids.insert(blank.id.0);

        let no_filter = ContactFilter::default();
        let every = Scope::admin(fx.actor.user);
        let (seen, pages) = walk_pages(3, |p| s.list_contacts(&no_filter, &every, p), |c: &Contact| c.id.0).await;
        assert_eq!(pages, 3, "[{b}] 8 rows in pages of 3");
        assert_newest_first_no_duplicates(b, &seen, &ids);

        let of_yunfan = s
            .list_contacts(
                &ContactFilter { account: Some(yunfan.id), ..Default::default() },
                &Scope::admin(fx.actor.user),
                all(),
            )
            .await
            .expect(b);
        assert_eq!(
            of_yunfan.items.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            vec!["赵敏", "刘洋", "陈静", "王强"],
            "[{b}] account filter"
        );
        let by_text = |t: &str| ContactFilter { text: Some(t.into()), ..Default::default() };
        let names = |p: Page<Contact>| p.items.into_iter().map(|c| c.name).collect::<Vec<_>>();
        assert_eq!(
            names(s.list_contacts(&by_text("yunfan.cn"), &Scope::admin(fx.actor.user), all()).await.expect(b)),
            vec!["赵敏", "陈静"],
            "[{b}] by email"
        );
        assert_eq!(
            names(s.list_contacts(&by_text("ZHANG.WEI"), &Scope::admin(fx.actor.user), all()).await.expect(b)),
            vec!["张伟"],
            "[{b}] email case-insensitive"
        );
        assert_eq!(
            names(s.list_contacts(&by_text("王"), &Scope::admin(fx.actor.user), all()).await.expect(b)),
            vec!["王强"],
            "[{b}] Chinese name"
        );
        assert_eq!(
            names(s.list_contacts(&by_text("mary smith"), &Scope::admin(fx.actor.user), all()).await.expect(b)),
            vec!["Mary Smith"],
            "[{b}]"
        );
        let filtered = ContactFilter { account: Some(acme.id), text: Some("li".into()), owner: Some(fx.actor.user) };
        assert_eq!(
            names(s.list_contacts(&filtered, &Scope::admin(fx.actor.user), all()).await.expect(b)),
            vec!["李娜"],
            "[{b}] filters combine"
        );

        // Optimistic locking and field semantics (absent = keep, null = clear).
        let c = s.list_contacts(&by_text("张伟"), &Scope::admin(fx.actor.user), all()).await.unwrap().items.remove(0);
        let patch = ContactPatch {
            version: 1,
            title: Some("总经理".into()),
            phone: Some(None),
            account_id: Some(Some(yunfan.id)),
            consent: Some(Consent { sms: true, ..Consent::default() }),
            ..Default::default()
        };
        let u = s.update_contact(c.id, &patch, at(30)).await.expect(b);
        assert_eq!(
            (u.version, u.title.as_str(), u.phone.as_deref(), u.account_id),
            (2, "总经理", None, Some(yunfan.id)),
            "[{b}]"
        );
        assert_eq!(
            (u.email.as_deref(), u.name.as_str(), u.consent),
            (c.email.as_deref(), "张伟", Consent { sms: true, ..Consent::default() }),
            "[{b}]"
        );
        conflict(
            b,
            s.update_contact(
                c.id,
                &ContactPatch { version: 1, name: Some("旧版本".into()), ..Default::default() },
                at(31),
            )
            .await,
        );
        assert_eq!(s.contact(c.id).await.expect(b), u, "[{b}] a stale update changes nothing");
        invalid(
            b,
            s.update_contact(
                c.id,
                &ContactPatch { version: 2, email: Some(Some("bad".into())), ..Default::default() },
                at(32),
            )
            .await,
            "email",
        );
        invalid(
            b,
            s.update_contact(
                c.id,
                &ContactPatch { version: 2, account_id: Some(Some(AccountId(9_999))), ..Default::default() },
                at(32),
            )
            .await,
            "account_id",
        );
        // The phone was cleared: it no longer matches duplicates.
        let d = s
            .find_duplicates(&DuplicateKeys::of(None, Some("13900000001"), None), None, &Scope::admin(fx.actor.user))
            .await
            .expect(b);
        assert!(d.is_empty(), "[{b}] cleared phone key: {d:?}");
    }
}

#[tokio::test]
async fn leads_create_update_filter_and_page() {
    for fx in fixtures().await {
        let (s, b) = (fx.s(), fx.b());
        let other = seed_user(s, Role::Rep).await;
        let rows = [
            ("李伟", "上海云帆科技有限公司", Channel::TradeShow),
            ("Tom", "Acme Inc.", Channel::WebsiteForm),
            ("周杰", "杭州西湖茶业", Channel::SocialMedia),
            ("吴磊", "上海云帆科技", Channel::TradeShow),
            ("郑爽", "成都熊猫文旅", Channel::Referral),
            ("孙俪", "南京秦淮科技", Channel::TradeShow),
            ("Ann", "Globex", Channel::Advertising),
        ];
        let mut ids = BTreeSet::new();
        for (i, (name, company, channel)) in rows.iter().enumerate() {
            let owner = if i < 4 { fx.actor.user } else { other.user };
            let mut nl = new_lead(name, company, None, None, *channel);
            nl.notes = format!("第 {i} 条线索");
            let l = s.create_lead(&nl, owner, at(i as i64)).await.expect(b);
            assert_eq!(
                (l.status, l.version, l.owner_id, l.converted_deal_id),
                (LeadStatus::New, 1, owner, None),
                "[{b}]"
            );
            assert_eq!(s.lead(l.id).await.expect(b), l, "[{b}] read back");
            ids.insert(l.id.0);
        }
        invalid(b, s.create_lead(&new_lead(" ", "X", None, None, Channel::Other), fx.actor.user, at(9)).await, "name");
        invalid(
            b,
            s.create_lead(&new_lead("X", "X", Some("a@b"), None, Channel::Other), fx.actor.user, at(9)).await,
            "email",
        );
        invalid(
            b,
            s.create_lead(&new_lead("X", "X", None, None, Channel::Other), UserId(9_999), at(9)).await,
            "owner_id",
        );
        not_found(b, s.lead(LeadId(9_999)).await);

        let no_filter = LeadFilter::default();
        let every = Scope::admin(fx.actor.user);
        let (seen, pages) = walk_pages(3, |p| s.list_leads(&no_filter, &every, p), |l: &Lead| l.id.0).await;
        assert_eq!(pages, 3, "[{b}]");
        assert_newest_first_no_duplicates(b, &seen, &ids);

        let names = |p: Page<Lead>| p.items.into_iter().map(|l| l.name).collect::<Vec<_>>();
        let trade = LeadFilter { channel: Some(Channel::TradeShow), ..Default::default() };
        assert_eq!(
            names(s.list_leads(&trade, &Scope::admin(fx.actor.user), all()).await.expect(b)),
            vec!["孙俪", "吴磊", "李伟"],
            "[{b}] channel filter"
        );
        let trade_mine = LeadFilter { owner: Some(fx.actor.user), ..trade.clone() };
        assert_eq!(
            names(s.list_leads(&trade_mine, &Scope::admin(fx.actor.user), all()).await.expect(b)),
            vec!["吴磊", "李伟"],
            "[{b}] + owner"
        );
        let every = Scope::admin(fx.actor.user);
        let (seen, _) = walk_pages(1, |p| s.list_leads(&trade, &every, p), |l: &Lead| l.id.0).await;
        assert_eq!(seen.len(), 3, "[{b}] filtered pages");
        let text = |t: &str| LeadFilter { text: Some(t.into()), ..Default::default() };
        assert_eq!(
            names(s.list_leads(&text("云帆"), &Scope::admin(fx.actor.user), all()).await.expect(b)),
            vec!["吴磊", "李伟"],
            "[{b}] Chinese company"
        );
        assert_eq!(
            names(s.list_leads(&text("acme"), &Scope::admin(fx.actor.user), all()).await.expect(b)),
            vec!["Tom"],
            "[{b}] case-insensitive company"
        );
        assert_eq!(
            names(s.list_leads(&text("周"), &Scope::admin(fx.actor.user), all()).await.expect(b)),
            vec!["周杰"],
            "[{b}] Chinese name"
        );
        assert!(
            s.list_leads(&text("不存在"), &Scope::admin(fx.actor.user), all()).await.expect(b).items.is_empty(),
            "[{b}]"
        );

        // Status filter after a qualification move.
        let tom = s.list_leads(&text("Tom"), &Scope::admin(fx.actor.user), all()).await.unwrap().items.remove(0);
        s.set_lead_status(tom.id, LeadStatus::Contacted, &q(1, None), at(10)).await.expect(b);
        let contacted = LeadFilter { status: Some(LeadStatus::Contacted), ..Default::default() };
        assert_eq!(
            names(s.list_leads(&contacted, &Scope::admin(fx.actor.user), all()).await.expect(b)),
            vec!["Tom"],
            "[{b}] status filter"
        );

        // Update with version.
        let patch = LeadPatch {
            version: 2,
            email: Some(Some("tom@acme.com".into())),
            company: Some("Acme, Inc.".into()),
            ..Default::default()
        };
        let u = s.update_lead(tom.id, &patch, at(11)).await.expect(b);
        assert_eq!(
            (u.version, u.email.as_deref(), u.company.as_str(), u.status),
            (3, Some("tom@acme.com"), "Acme, Inc.", LeadStatus::Contacted),
            "[{b}]"
        );
        conflict(
            b,
            s.update_lead(tom.id, &LeadPatch { version: 2, name: Some("旧".into()), ..Default::default() }, at(12))
                .await,
        );
        assert_eq!(s.lead(tom.id).await.expect(b), u, "[{b}] a stale update changes nothing");
        invalid(
            b,
            s.update_lead(
                tom.id,
                &LeadPatch { version: 3, phone: Some(Some("abc".into())), ..Default::default() },
                at(12),
            )
            .await,
            "phone",
        );
        // The new email is searchable.
        assert_eq!(
            names(s.list_leads(&text("tom@acme"), &Scope::admin(fx.actor.user), all()).await.expect(b)),
            vec!["Tom"],
            "[{b}] by email"
        );
    }
}

#[tokio::test]
async fn duplicates_match_on_normalised_email_phone_and_company() {
    for fx in fixtures().await {
        let (s, b) = (fx.s(), fx.b());
        let account = s.create_account(&new_account("上海云帆科技"), fx.actor.user, at(0)).await.expect(b);
        let contact = s
            .create_contact(
                &new_contact(Some(account.id), "李伟", Some("li.wei@example.com"), Some("13800138000")),
                fx.actor.user,
                at(1),
            )
            .await
            .expect(b);
        let unrelated = s
            .create_contact(
                &new_contact(None, "别人", Some("someone@example.com"), Some("13900000000")),
                fx.actor.user,
                at(1),
            )
            .await
            .expect(b);
        let lead = s
            .create_lead(
                &new_lead(
                    "李伟",
                    "上海云帆科技有限公司",
                    Some(" Li.Wei@Example.com "),
                    Some("+86 138-0013-8000"),
                    Channel::TradeShow,
                ),
                fx.actor.user,
                at(2),
            )
            .await
            .expect(b);
        let keys = DuplicateKeys::of(lead.email.as_deref(), lead.phone.as_deref(), Some(&lead.company));
        assert_eq!(keys.email.as_deref(), Some("li.wei@example.com"), "[{b}]");
        let found = s.find_duplicates(&keys, Some(lead.id), &Scope::admin(fx.actor.user)).await.expect(b);
        let set: BTreeSet<(String, i64, String)> =
            found.iter().map(|d| (d.entity.clone(), d.id, d.matched_on.clone())).collect();
        let expected: BTreeSet<(String, i64, String)> = [
            ("contact".to_string(), contact.id.0, "email".to_string()),
            ("contact".to_string(), contact.id.0, "phone".to_string()),
            ("account".to_string(), account.id.0, "company".to_string()),
        ]
        .into_iter()
        .collect();
        assert_eq!(set, expected, "[{b}] matches; the lead itself excluded: {found:?}");
        assert!(found.iter().all(|d| d.id != unrelated.id.0 || d.entity != "contact"), "[{b}]");
        let account_hit = found.iter().find(|d| d.entity == "account").unwrap();
        assert_eq!(account_hit.name, "上海云帆科技", "[{b}] the match carries its name");

        // Without the exception the lead matches itself; a second lead matches the first.
        let with_self = s.find_duplicates(&keys, None, &Scope::admin(fx.actor.user)).await.expect(b);
        assert!(
            with_self.iter().any(|d| d.entity == "lead" && d.id == lead.id.0 && d.matched_on == "email"),
            "[{b}] {with_self:?}"
        );
        let twin = s
            .create_lead(
                &new_lead("Wei Li", "上海云帆科技 有限公司", None, Some("0086 13800138000"), Channel::Referral),
                fx.actor.user,
                at(3),
            )
            .await
            .expect(b);
        let twin_keys = DuplicateKeys::of(None, twin.phone.as_deref(), Some(&twin.company));
        let found = s.find_duplicates(&twin_keys, Some(twin.id), &Scope::admin(fx.actor.user)).await.expect(b);
        let set: BTreeSet<(&str, i64, &str)> =
            found.iter().map(|d| (d.entity.as_str(), d.id, d.matched_on.as_str())).collect();
        for want in [
            ("lead", lead.id.0, "phone"),
            ("lead", lead.id.0, "company"),
            ("contact", contact.id.0, "phone"),
            ("account", account.id.0, "company"),
        ] {
            assert!(set.contains(&want), "[{b}] {want:?} in {set:?}");
        }
        assert!(!set.iter().any(|(e, id, _)| *e == "lead" && *id == twin.id.0), "[{b}] not itself");

        assert!(
            s.find_duplicates(&DuplicateKeys::default(), None, &Scope::admin(fx.actor.user)).await.expect(b).is_empty(),
            "[{b}] no keys, no matches"
        );
        let none = DuplicateKeys::of(Some("new@example.com"), Some("020-12345678"), Some("全新公司"));
        assert!(
            s.find_duplicates(&none, None, &Scope::admin(fx.actor.user)).await.expect(b).is_empty(),
            "[{b}] nothing similar"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Lead qualification and conversion

#[tokio::test]
async fn lead_qualification_transitions() {
    for fx in fixtures().await {
        let (s, b) = (fx.s(), fx.b());
        let l = s
            .create_lead(&new_lead("李伟", "云帆", None, None, Channel::Telemarketing), fx.actor.user, at(0))
            .await
            .expect(b);
        let l = s.set_lead_status(l.id, LeadStatus::Contacted, &q(1, None), at(1)).await.expect(b);
        assert_eq!((l.status, l.version, l.updated_at), (LeadStatus::Contacted, 2, at(1)), "[{b}]");
        conflict(b, s.set_lead_status(l.id, LeadStatus::Qualified, &q(1, None), at(2)).await);
        invalid(b, s.set_lead_status(l.id, LeadStatus::New, &q(2, None), at(2)).await, "status");
        let l = s.set_lead_status(l.id, LeadStatus::Qualified, &q(2, None), at(2)).await.expect(b);
        assert_eq!((l.status, l.version), (LeadStatus::Qualified, 3), "[{b}]");

        // Disqualifying needs a reason; a blank one is no reason.
        invalid(b, s.set_lead_status(l.id, LeadStatus::Disqualified, &q(3, None), at(3)).await, "reason");
        invalid(b, s.set_lead_status(l.id, LeadStatus::Disqualified, &q(3, Some("   ")), at(3)).await, "reason");
        assert_eq!(s.lead(l.id).await.expect(b), l, "[{b}] refused moves change nothing");
        let l = s.set_lead_status(l.id, LeadStatus::Disqualified, &q(3, Some(" 预算不足 ")), at(3)).await.expect(b);
        assert_eq!((l.status, l.disqualify_reason.as_deref()), (LeadStatus::Disqualified, Some("预算不足")), "[{b}]");
        // Reopened: the reason goes.
        let l = s.set_lead_status(l.id, LeadStatus::Contacted, &q(4, None), at(4)).await.expect(b);
        assert_eq!((l.status, l.disqualify_reason), (LeadStatus::Contacted, None), "[{b}]");
        // Converted only by converting.
        let l = s.set_lead_status(l.id, LeadStatus::Qualified, &q(5, None), at(5)).await.expect(b);
        invalid(b, s.set_lead_status(l.id, LeadStatus::Converted, &q(6, None), at(6)).await, "status");

        let c = s
            .convert_lead(
                l.id,
                &ConvertLead {
                    version: 6,
                    process_id: fx.process,
                    account_id: None,
                    contact_id: None,
                    deal_title: None,
                    amount: None,
                    expected_close_date: None,
                },
                &fx.actor,
                at(7),
            )
            .await
            .expect(b);
        assert_eq!(c.lead.status, LeadStatus::Converted, "[{b}]");
        invalid(b, s.set_lead_status(l.id, LeadStatus::Disqualified, &q(7, Some("晚了")), at(8)).await, "status");
        invalid(b, s.set_lead_status(l.id, LeadStatus::Contacted, &q(7, None), at(8)).await, "status");
        assert_eq!(s.lead(l.id).await.expect(b), c.lead, "[{b}] a converted lead stays converted");
        not_found(b, s.set_lead_status(LeadId(9_999), LeadStatus::Contacted, &q(1, None), at(8)).await);
    }
}

fn convert_req(version: i64, process: ProcessId) -> ConvertLead {
    ConvertLead {
        version,
        process_id: process,
        account_id: None,
        contact_id: None,
        deal_title: None,
        amount: None,
        expected_close_date: None,
    }
}

async fn qualified_lead(fx: &Fx, name: &str, company: &str, email: Option<&str>, phone: Option<&str>) -> Lead {
    let (s, b) = (fx.s(), fx.b());
    let l =
        s.create_lead(&new_lead(name, company, email, phone, Channel::TradeShow), fx.actor.user, at(0)).await.expect(b);
    s.set_lead_status(l.id, LeadStatus::Qualified, &q(1, None), at(1)).await.expect(b)
}

#[tokio::test]
async fn converting_a_lead_creates_account_contact_and_deal_together() {
    for fx in fixtures().await {
        let (s, b) = (fx.s(), fx.b());
        let lead =
            qualified_lead(&fx, "李伟", "上海云帆科技有限公司", Some("li.wei@example.com"), Some("+86 138-0013-8000"))
                .await;
        let before = counts(&fx).await;
        let mut req = convert_req(lead.version, fx.process);
        req.amount = Some(cny(12_500_000));
        req.expected_close_date = Some(date(2025, 6, 30));
        let c = s.convert_lead(lead.id, &req, &fx.actor, at(10)).await.expect(b);
        assert!(c.account_created && c.contact_created, "[{b}]");
        assert_eq!(c.account.name, "上海云帆科技有限公司", "[{b}] account named after the company");
        assert_eq!(
            (c.contact.name.as_str(), c.contact.email.as_deref(), c.contact.phone.as_deref(), c.contact.account_id),
            ("李伟", Some("li.wei@example.com"), Some("+86 138-0013-8000"), Some(c.account.id)),
            "[{b}] contact from the lead"
        );
        let d = &c.deal;
        assert_eq!(d.title, "上海云帆科技有限公司 — 李伟", "[{b}] default title");
        assert_eq!(
            (d.account_id, &d.contact_ids, d.lead_id, d.channel),
            (c.account.id, &vec![c.contact.id], Some(lead.id), Some(Channel::TradeShow)),
            "[{b}]"
        );
        assert_eq!(
            (d.current_node.as_str(), d.probability, d.status, d.version),
            ("lead_identification", 10, DealStatus::Open, 1),
            "[{b}]"
        );
        assert_eq!(
            (d.amount, d.expected_close_date, d.owner_id),
            (Some(cny(12_500_000)), Some(date(2025, 6, 30)), lead.owner_id),
            "[{b}]"
        );
        assert_eq!(
            (c.lead.status, c.lead.converted_deal_id, c.lead.version),
            (LeadStatus::Converted, Some(d.id), lead.version + 1),
            "[{b}]"
        );
        assert_eq!(s.deal(d.id).await.expect(b), *d, "[{b}] deal read back");
        assert_eq!(s.lead(lead.id).await.expect(b), c.lead, "[{b}] lead read back");
        let events = s.deal_events(d.id).await.expect(b);
        assert_eq!(kinds(&events), vec![EventKind::Created], "[{b}]");
        assert_eq!(
            (events[0].actor_id, events[0].amount_minor, events[0].probability),
            (fx.actor.user, Some(12_500_000), 10),
            "[{b}]"
        );
        assert_eq!(counts(&fx).await, (before.0 + 1, before.1 + 1, before.2, before.3 + 1), "[{b}] one of each");
        // Converting twice is refused.
        invalid(
            b,
            s.convert_lead(lead.id, &convert_req(c.lead.version, fx.process), &fx.actor, at(11)).await,
            "status",
        );

        // A lead of the same company (normalised) joins the existing account.
        let second = qualified_lead(&fx, "吴磊", "上海云帆科技", None, None).await;
        let before = counts(&fx).await;
        let c2 = s.convert_lead(second.id, &convert_req(second.version, fx.process), &fx.actor, at(12)).await.expect(b);
        assert!(!c2.account_created && c2.contact_created, "[{b}] matched the account");
        assert_eq!(c2.account.id, c.account.id, "[{b}] same account");
        assert_eq!(c2.deal.title, "上海云帆科技 — 吴磊", "[{b}]");
        assert_eq!(counts(&fx).await, (before.0, before.1 + 1, before.2, before.3 + 1), "[{b}] no new account");

        // Explicit account and contact are linked, nothing new is created but the deal.
        let other = s.create_account(&new_account("Globex"), fx.actor.user, at(13)).await.expect(b);
        let person =
            s.create_contact(&new_contact(Some(other.id), "Hank", None, None), fx.actor.user, at(13)).await.expect(b);
        let third = qualified_lead(&fx, "Hank S.", "Globex Corporation", None, None).await;
        let before = counts(&fx).await;
        let mut req = convert_req(third.version, fx.process);
        req.account_id = Some(other.id);
        req.contact_id = Some(person.id);
        req.deal_title = Some("Globex 续约".into());
        let c3 = s.convert_lead(third.id, &req, &fx.actor, at(14)).await.expect(b);
        assert!(!c3.account_created && !c3.contact_created, "[{b}]");
        assert_eq!(
            (c3.deal.title.as_str(), c3.deal.account_id, c3.deal.contact_ids.clone()),
            ("Globex 续约", other.id, vec![person.id]),
            "[{b}]"
        );
        assert_eq!(counts(&fx).await, (before.0, before.1, before.2, before.3 + 1), "[{b}] only a deal");
    }
}

#[tokio::test]
async fn a_refused_conversion_creates_nothing() {
    for fx in fixtures().await {
        let (s, b) = (fx.s(), fx.b());
        let fresh = s
            .create_lead(
                &new_lead("周杰", "杭州西湖茶业", Some("zhou@xihu.cn"), None, Channel::SocialMedia),
                fx.actor.user,
                at(0),
            )
            .await
            .expect(b);
        let before = counts(&fx).await;
        invalid(b, s.convert_lead(fresh.id, &convert_req(1, fx.process), &fx.actor, at(1)).await, "status");
        assert_eq!(counts(&fx).await, before, "[{b}] unqualified: nothing created");
        assert_eq!(s.lead(fresh.id).await.expect(b), fresh, "[{b}] lead unchanged");

        let lead = qualified_lead(&fx, "郑爽", "成都熊猫文旅", None, None).await;
        let before = counts(&fx).await;
        conflict(b, s.convert_lead(lead.id, &convert_req(lead.version - 1, fx.process), &fx.actor, at(2)).await);
        invalid(
            b,
            s.convert_lead(lead.id, &convert_req(lead.version, ProcessId(9_999)), &fx.actor, at(2)).await,
            "process_id",
        );
        let mut bad_account = convert_req(lead.version, fx.process);
        bad_account.account_id = Some(AccountId(9_999));
        invalid(b, s.convert_lead(lead.id, &bad_account, &fx.actor, at(2)).await, "account_id");
        // Fails after the account and contact were inserted: the whole transaction goes.
        let mut bad_amount = convert_req(lead.version, fx.process);
        bad_amount.amount = Some(cny(-5));
        invalid(b, s.convert_lead(lead.id, &bad_amount, &fx.actor, at(2)).await, "amount.minor");
        let mut bad_contact = convert_req(lead.version, fx.process);
        bad_contact.contact_id = Some(ContactId(9_999));
        invalid(b, s.convert_lead(lead.id, &bad_contact, &fx.actor, at(2)).await, "contact_id");
        assert_eq!(counts(&fx).await, before, "[{b}] refused conversions leave no rows behind");
        assert_eq!(s.lead(lead.id).await.expect(b), lead, "[{b}] lead unchanged");
        // A process without a published version cannot take deals.
        let mut draft_only = salesflow_domain::templates::get("saas-trial.zh-CN").unwrap();
        draft_only.key = "draft-only".into();
        let draft = s.create_process(&draft_only, at(3)).await.expect(b);
        invalid(
            b,
            s.convert_lead(lead.id, &convert_req(lead.version, draft.process_id), &fx.actor, at(3)).await,
            "process_id",
        );
        assert_eq!(counts(&fx).await, before, "[{b}]");
        not_found(b, s.convert_lead(LeadId(9_999), &convert_req(1, fx.process), &fx.actor, at(3)).await);
    }
}

// ---------------------------------------------------------------------------------------------
// Deals

#[tokio::test]
async fn deals_are_created_in_the_entry_stage() {
    for fx in fixtures().await {
        let (s, b) = (fx.s(), fx.b());
        let (account, contact, deal) = deal_with_contact(&fx, "云帆 ERP 项目", at(100)).await;
        assert_eq!(
            (deal.current_node.as_str(), deal.probability, deal.probability_overridden),
            ("lead_identification", 10, false),
            "[{b}] entry stage default"
        );
        assert_eq!(
            (deal.status, deal.version, deal.process_version, deal.owner_id),
            (DealStatus::Open, 1, 1, fx.actor.user),
            "[{b}]"
        );
        assert_eq!((deal.contact_ids.clone(), deal.completed_steps.clone()), (vec![contact.id], vec![]), "[{b}]");
        assert_eq!(
            (deal.created_at, deal.stage_entered_at, deal.updated_at, deal.closed_at),
            (at(100), at(100), at(100), None),
            "[{b}]"
        );
        assert_eq!(s.deal(deal.id).await.expect(b), deal, "[{b}] read back");
        let events = s.deal_events(deal.id).await.expect(b);
        assert_eq!(events.len(), 1, "[{b}]");
        let e = &events[0];
        assert_eq!(
            (e.seq, e.kind, e.from_node.as_str(), e.to_node.as_str(), e.edge_id.clone()),
            (1, EventKind::Created, "lead_identification", "lead_identification", None),
            "[{b}]"
        );
        assert_eq!(
            (e.deal_id, e.process_id, e.process_version, e.occurred_at, e.recorded_at),
            (deal.id, fx.process, 1, at(100), at(100)),
            "[{b}]"
        );
        assert_eq!(e.details, json!({ "title": "云帆 ERP 项目" }), "[{b}]");

        // Explicit probability, amount, back-dated creation, another owner.
        let other = seed_user(s, Role::Rep).await;
        let mut nd = new_deal("  回溯的商机 ", account.id, vec![], fx.process);
        nd.probability = Some(33);
        nd.amount = Some(cny(880_000));
        nd.expected_close_date = Some(date(2025, 9, 1));
        nd.occurred_at = Some(at(50));
        nd.owner_id = Some(other.user);
        nd.needs_summary = "需要 CRM".into();
        let d2 = s.create_deal(&nd, &fx.actor, at(200)).await.expect(b);
        assert_eq!(
            (d2.title.as_str(), d2.probability, d2.probability_overridden, d2.owner_id),
            ("回溯的商机", 33, true, other.user),
            "[{b}]"
        );
        assert_eq!(
            (d2.created_at, d2.stage_entered_at, d2.updated_at),
            (at(50), at(50), at(200)),
            "[{b}] business time vs write time"
        );
        let e = &s.deal_events(d2.id).await.expect(b)[0];
        assert_eq!(
            (
                e.occurred_at,
                e.recorded_at,
                e.amount_minor,
                e.currency,
                e.probability,
                e.expected_close_date,
                e.actor_id
            ),
            (at(50), at(200), Some(880_000), Some(Currency::CNY), 33, Some(date(2025, 9, 1)), fx.actor.user),
            "[{b}] event snapshot"
        );

        // Refusals.
        invalid(
            b,
            s.create_deal(&new_deal("X", AccountId(9_999), vec![], fx.process), &fx.actor, at(300)).await,
            "account_id",
        );
        invalid(
            b,
            s.create_deal(&new_deal("X", account.id, vec![ContactId(9_999)], fx.process), &fx.actor, at(300)).await,
            "contact_ids[0]",
        );
        invalid(
            b,
            s.create_deal(&new_deal("X", account.id, vec![], ProcessId(9_999)), &fx.actor, at(300)).await,
            "process_id",
        );
        invalid(b, s.create_deal(&new_deal(" ", account.id, vec![], fx.process), &fx.actor, at(300)).await, "title");
        invalid(
            b,
            s.create_deal(
                &NewDeal { probability: Some(101), ..new_deal("X", account.id, vec![], fx.process) },
                &fx.actor,
                at(300),
            )
            .await,
            "probability",
        );
        invalid(
            b,
            s.create_deal(
                &NewDeal { occurred_at: Some(at(300 + 3_600)), ..new_deal("X", account.id, vec![], fx.process) },
                &fx.actor,
                at(300),
            )
            .await,
            "occurred_at",
        );
        invalid(
            b,
            s.create_deal(
                &NewDeal { owner_id: Some(UserId(9_999)), ..new_deal("X", account.id, vec![], fx.process) },
                &fx.actor,
                at(300),
            )
            .await,
            "owner_id",
        );
        assert_eq!(
            s.list_deals(&DealFilter::default(), &Scope::admin(fx.actor.user), all()).await.expect(b).items.len(),
            2,
            "[{b}] refused deals were not written"
        );
        not_found(b, s.deal(DealId(9_999)).await);
        not_found(b, s.deal_events(DealId(9_999)).await);
    }
}

#[tokio::test]
async fn duplicate_contact_ids_are_collapsed() {
    for fx in fixtures().await {
        let (s, b) = (fx.s(), fx.b());
        let (account, c1, _) = deal_with_contact(&fx, "重复联系人", at(0)).await;
        let c2 = s
            .create_contact(&new_contact(Some(account.id), "第二人", None, None), fx.actor.user, at(0))
            .await
            .expect(b);
        let d = s
            .create_deal(&new_deal("D", account.id, vec![c1.id, c2.id, c1.id], fx.process), &fx.actor, at(1))
            .await
            .expect(b);
        assert_eq!(d.contact_ids, vec![c1.id, c2.id], "[{b}]");
        let patch = DealPatch { version: 1, contact_ids: Some(vec![c2.id, c1.id, c2.id]), ..Default::default() };
        let d = s.update_deal(d.id, &patch, &fx.actor, at(2)).await.expect(b);
        assert_eq!(d.contact_ids, vec![c2.id, c1.id], "[{b}]");
    }
}

#[tokio::test]
async fn a_deal_walks_the_whole_process_to_won() {
    for fx in fixtures().await {
        let (s, b, a) = (fx.s(), fx.b(), &fx.actor);
        let (_, _, d) = deal_with_contact(&fx, "完整流程", at(0)).await;
        let id = d.id;
        let mut t = 0;
        let mut now = || {
            t += 60;
            at(t)
        };

        // 潜在客户识别
        let d = s.toggle_step(id, &tick("check_fit", d.version), a, now()).await.expect(b);
        assert_eq!(d.completed_steps, vec!["check_fit"], "[{b}]");
        let (d, e) = s.move_deal(id, &mv("needs_analysis", d.version), a, now()).await.expect(b);
        assert_eq!(
            (e.kind, e.from_node.as_str(), e.to_node.as_str(), e.edge_id.as_deref()),
            (EventKind::Moved, "lead_identification", "needs_analysis", Some("qualified")),
            "[{b}]"
        );
        assert_eq!(
            (d.current_node.as_str(), d.probability, d.completed_steps.len(), d.stage_entered_at),
            ("needs_analysis", 25, 0, e.occurred_at),
            "[{b}] new stage, fresh checklist"
        );
        assert_eq!(e.details["route"], json!(["qualified"]), "[{b}]");

        // 客户接触与需求分析
        let d = s
            .update_deal(
                id,
                &DealPatch {
                    version: d.version, needs_summary: Some("痛点:手工报价慢".into()), ..Default::default()
                },
                a,
                now(),
            )
            .await
            .expect(b);
        let d = s.toggle_step(id, &tick("confirm_intent", d.version), a, now()).await.expect(b);
        let (d, _) = s.move_deal(id, &mv("recommendation", d.version), a, now()).await.expect(b);

        // 产品/服务推荐
        let d = s
            .update_deal(
                id,
                &DealPatch { version: d.version, amount: Some(Some(cny(30_000_000))), ..Default::default() },
                a,
                now(),
            )
            .await
            .expect(b);
        let d = s.toggle_step(id, &tick("present_advantages", d.version), a, now()).await.expect(b);
        let d = s.toggle_step(id, &tick("share_evidence", d.version), a, now()).await.expect(b);
        let (d, _) = s.move_deal(id, &mv("negotiation", d.version), a, now()).await.expect(b);
        assert_eq!(d.probability, 60, "[{b}]");

        // 报价与谈判 → 报价是否接受? → 客户拒绝 → 提供分层产品套餐
        let d = s.toggle_step(id, &tick("send_quote", d.version), a, now()).await.expect(b);
        let d = s
            .update_deal(
                id,
                &DealPatch {
                    version: d.version,
                    expected_close_date: Some(Some(date(2025, 5, 31))),
                    ..Default::default()
                },
                a,
                now(),
            )
            .await
            .expect(b);
        let (d, e) = s.move_deal(id, &mv("tiered_package", d.version), a, now()).await.expect(b);
        assert_eq!(
            (e.edge_id.as_deref(), &e.details["route"], &e.details["label"]),
            (Some("rejected"), &json!(["quote_sent", "rejected"]), &json!("客户拒绝")),
            "[{b}] through the decision"
        );
        assert_eq!((d.current_node.as_str(), d.probability), ("tiered_package", 45), "[{b}]");
        let d = s.toggle_step(id, &tick("select_tier", d.version), a, now()).await.expect(b);
        let (d, _) = s.move_deal(id, &mv("negotiation", d.version), a, now()).await.expect(b);
        assert!(d.completed_steps.is_empty(), "[{b}] re-entering a stage starts its checklist anew");
        assert_eq!(s.deal(id).await.expect(b).completed_steps, Vec::<String>::new(), "[{b}] also when read back");
        let report = gate_blocked(b, s.move_deal(id, &mv("signing", d.version), a, now()).await);
        assert_eq!(
            report.missing.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            vec!["c_quote"],
            "[{b}] only the quote is missing again"
        );
        let d = s.toggle_step(id, &tick("send_quote", d.version), a, now()).await.expect(b);
        let (d, e) = s
            .move_deal(id, &MoveRequest { edge: Some("accepted".into()), ..mv("signing", d.version) }, a, now())
            .await
            .expect(b);
        assert_eq!(e.edge_id.as_deref(), Some("accepted"), "[{b}]");
        assert_eq!((d.current_node.as_str(), d.probability), ("signing", 90), "[{b}]");

        // 签约与合同执行 → 赢单
        let d = s.toggle_step(id, &tick("sign_contract", d.version), a, now()).await.expect(b);
        let d = s.toggle_step(id, &tick("kickoff_execution", d.version), a, now()).await.expect(b);
        let won_at = now();
        let (d, e) = s.move_deal(id, &mv("won", d.version), a, won_at).await.expect(b);
        assert_eq!(
            (d.status, d.probability, d.closed_at, d.current_node.as_str()),
            (DealStatus::Won, 100, Some(won_at), "won"),
            "[{b}]"
        );
        assert_eq!(
            (e.probability, e.amount_minor, e.expected_close_date),
            (100, Some(30_000_000), Some(date(2025, 5, 31))),
            "[{b}] snapshot after the move"
        );
        assert_eq!(s.deal(id).await.expect(b), d, "[{b}] read back");
        invalid(b, s.move_deal(id, &lose(d.version, "太晚"), a, now()).await, "to");
        invalid(b, s.toggle_step(id, &tick("sign_contract", d.version), a, now()).await, "step");

        let events = s.deal_events(id).await.expect(b);
        assert_seq_contiguous(b, &events);
        assert_eq!(events.len() as i64, d.version, "[{b}] one event per change");
        let moves: Vec<(&str, &str)> = events
            .iter()
            .filter(|e| e.kind == EventKind::Moved)
            .map(|e| (e.from_node.as_str(), e.to_node.as_str()))
            .collect();
        assert_eq!(
            moves,
            vec![
                ("lead_identification", "needs_analysis"),
                ("needs_analysis", "recommendation"),
                ("recommendation", "negotiation"),
                ("negotiation", "tiered_package"),
                ("tiered_package", "negotiation"),
                ("negotiation", "signing"),
                ("signing", "won"),
            ],
            "[{b}] the path taken"
        );
        let won = s
            .list_deals(
                &DealFilter { status: Some(DealStatus::Won), ..Default::default() },
                &Scope::admin(fx.actor.user),
                all(),
            )
            .await
            .expect(b);
        assert_eq!(won.items.iter().map(|d| d.id).collect::<Vec<_>>(), vec![id], "[{b}]");
    }
}

#[tokio::test]
async fn a_hard_gate_blocks_and_lists_every_missing_criterion() {
    for fx in fixtures().await {
        let (s, b, a) = (fx.s(), fx.b(), &fx.actor);
        let account = s.create_account(&new_account("硬门槛"), a.user, at(0)).await.expect(b);
        let deal = s.create_deal(&new_deal("没有联系人", account.id, vec![], fx.process), a, at(0)).await.expect(b);
        let before = s.deal_events(deal.id).await.expect(b);
        for override_reason in [None, Some("老板同意了".to_string())] {
            let req = MoveRequest { override_reason, ..mv("needs_analysis", deal.version) };
            let report = gate_blocked(b, s.move_deal(deal.id, &req, a, at(10)).await);
            assert_eq!(report.stage, "lead_identification", "[{b}]");
            assert_eq!(
                report.missing.iter().map(|m| (m.id.as_str(), m.gate)).collect::<Vec<_>>(),
                vec![("c_contact", Gate::Hard), ("c_fit", Gate::Hard)],
                "[{b}] all missing criteria, in order"
            );
            assert!(!report.override_required, "[{b}] hard gates cannot be overridden");
            assert!(report.missing.iter().all(|m| !m.label.is_empty()), "[{b}] labels for the rep");
        }
        assert_eq!(s.deal(deal.id).await.expect(b), deal, "[{b}] deal unchanged");
        assert_eq!(s.deal_events(deal.id).await.expect(b), before, "[{b}] no event written");

        // Meeting one criterion leaves the other.
        let contact =
            s.create_contact(&new_contact(Some(account.id), "联系人", None, None), a.user, at(1)).await.expect(b);
        let deal = s
            .update_deal(
                deal.id,
                &DealPatch { version: 1, contact_ids: Some(vec![contact.id]), ..Default::default() },
                a,
                at(2),
            )
            .await
            .expect(b);
        let report = gate_blocked(b, s.move_deal(deal.id, &mv("needs_analysis", deal.version), a, at(3)).await);
        assert_eq!(report.missing.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), vec!["c_fit"], "[{b}]");
        // Moving to Lost skips the gate.
        let (lost, _) = s.move_deal(deal.id, &lose(deal.version, "客户无预算"), a, at(4)).await.expect(b);
        assert_eq!(
            (lost.status, lost.lost_reason.as_deref(), lost.probability),
            (DealStatus::Lost, Some("客户无预算"), 0),
            "[{b}]"
        );
    }
}

#[tokio::test]
async fn a_soft_gate_needs_an_override_reason() {
    for fx in fixtures().await {
        let (s, b, a) = (fx.s(), fx.b(), &fx.actor);
        let (_, _, d) = deal_with_contact(&fx, "软门槛", at(0)).await;
        let d = s.toggle_step(d.id, &tick("check_fit", 1), a, at(1)).await.expect(b);
        let (d, _) = s.move_deal(d.id, &mv("needs_analysis", d.version), a, at(2)).await.expect(b);
        // Hard and soft missing: blocked, no override possible.
        let report = gate_blocked(
            b,
            s.move_deal(
                d.id,
                &MoveRequest { override_reason: Some("急".into()), ..mv("recommendation", d.version) },
                a,
                at(3),
            )
            .await,
        );
        assert_eq!((report.missing.len(), report.override_required), (2, false), "[{b}] {report:?}");
        let d = s
            .update_deal(
                d.id,
                &DealPatch { version: d.version, needs_summary: Some("需要移动端".into()), ..Default::default() },
                a,
                at(4),
            )
            .await
            .expect(b);
        let events_before = s.deal_events(d.id).await.expect(b).len();
        for reason in [None, Some("  ".to_string())] {
            let report = gate_blocked(
                b,
                s.move_deal(
                    d.id,
                    &MoveRequest { override_reason: reason, ..mv("recommendation", d.version) },
                    a,
                    at(5),
                )
                .await,
            );
            assert!(report.override_required, "[{b}] only soft criteria missing");
            assert_eq!(
                report.missing.iter().map(|m| (m.id.as_str(), m.gate)).collect::<Vec<_>>(),
                vec![("c_intent", Gate::Soft)],
                "[{b}]"
            );
        }
        assert_eq!(s.deal(d.id).await.expect(b), d, "[{b}] unchanged");
        assert_eq!(s.deal_events(d.id).await.expect(b).len(), events_before, "[{b}] no event");
        let (moved, e) = s
            .move_deal(
                d.id,
                &MoveRequest {
                    override_reason: Some(" 客户口头确认 ".into()), ..mv("recommendation", d.version)
                },
                a,
                at(6),
            )
            .await
            .expect(b);
        assert_eq!(moved.current_node, "recommendation", "[{b}]");
        assert_eq!(e.details["override_reason"], json!("客户口头确认"), "[{b}] reason recorded: {}", e.details);
        assert_eq!(e.details["overridden"], json!(["c_intent"]), "[{b}]");
        let stored = s.deal_events(d.id).await.expect(b);
        assert_eq!(stored.last().unwrap(), &e, "[{b}] the returned event is the stored one");
    }
}

#[tokio::test]
async fn move_requests_are_validated() {
    for fx in fixtures().await {
        let (s, b, a) = (fx.s(), fx.b(), &fx.actor);
        let (_, _, d) = deal_with_contact(&fx, "校验", at(100)).await;
        let errs = invalid(b, s.move_deal(d.id, &mv("signing", 1), a, at(110)).await, "to");
        assert!(errs[0].message.contains("needs_analysis"), "[{b}] says where it can go: {errs:?}");
        invalid(b, s.move_deal(d.id, &mv("no_such_node", 1), a, at(110)).await, "to");
        invalid(
            b,
            s.move_deal(d.id, &MoveRequest { edge: Some("signed".into()), ..mv("needs_analysis", 1) }, a, at(110))
                .await,
            "edge",
        );
        invalid(b, s.move_deal(d.id, &mv("lost", 1), a, at(110)).await, "lost_reason");
        invalid(b, s.move_deal(d.id, &lose(1, "  "), a, at(110)).await, "lost_reason");
        invalid(
            b,
            s.move_deal(
                d.id,
                &MoveRequest { lost_reason: Some("不该有".into()), ..mv("needs_analysis", 1) },
                a,
                at(110),
            )
            .await,
            "lost_reason",
        );
        conflict(b, s.move_deal(d.id, &lose(2, "旧版本"), a, at(110)).await);
        conflict(b, s.move_deal(d.id, &lose(0, "旧版本"), a, at(110)).await);
        // Business time: never before the previous event, never in the future.
        invalid(
            b,
            s.move_deal(d.id, &MoveRequest { occurred_at: Some(at(99)), ..lose(1, "回溯") }, a, at(110)).await,
            "occurred_at",
        );
        invalid(
            b,
            s.move_deal(d.id, &MoveRequest { occurred_at: Some(at(110 + 3_600)), ..lose(1, "未来") }, a, at(110)).await,
            "occurred_at",
        );
        not_found(b, s.move_deal(DealId(9_999), &lose(1, "无"), a, at(110)).await);
        assert_eq!(s.deal(d.id).await.expect(b), d, "[{b}] refused moves change nothing");
        assert_eq!(s.deal_events(d.id).await.expect(b).len(), 1, "[{b}]");

        // Back-dated, but after the previous event, is fine.
        let (lost, e) = s
            .move_deal(d.id, &MoveRequest { occurred_at: Some(at(105)), ..lose(1, " 竞品价格更低 ") }, a, at(110))
            .await
            .expect(b);
        assert_eq!(
            (lost.status, lost.lost_reason.as_deref(), lost.closed_at, lost.stage_entered_at, lost.updated_at),
            (DealStatus::Lost, Some("竞品价格更低"), Some(at(105)), at(105), at(110)),
            "[{b}]"
        );
        assert_eq!(
            (e.occurred_at, e.recorded_at, e.edge_id.as_deref()),
            (at(105), at(110), Some("lead_identification_lost")),
            "[{b}]"
        );
        assert_eq!(e.details["lost_reason"], json!("竞品价格更低"), "[{b}]");
        invalid(b, s.move_deal(d.id, &mv("needs_analysis", lost.version), a, at(120)).await, "to");
    }
}

#[tokio::test]
async fn step_toggles_are_recorded() {
    for fx in fixtures().await {
        let (s, b, a) = (fx.s(), fx.b(), &fx.actor);
        let (_, _, d) = deal_with_contact(&fx, "步骤", at(0)).await;
        let d = s.toggle_step(d.id, &tick("define_target", 1), a, at(1)).await.expect(b);
        let d = s.toggle_step(d.id, &tick("check_fit", 2), a, at(2)).await.expect(b);
        assert_eq!(
            (d.version, d.completed_steps.clone()),
            (3, vec!["define_target".to_string(), "check_fit".to_string()]),
            "[{b}] in the order ticked"
        );
        invalid(b, s.toggle_step(d.id, &tick("check_fit", 3), a, at(3)).await, "done");
        invalid(b, s.toggle_step(d.id, &tick("send_quote", 3), a, at(3)).await, "step");
        conflict(b, s.toggle_step(d.id, &tick("screen_channels", 2), a, at(3)).await);
        invalid(
            b,
            s.toggle_step(d.id, &StepToggle { occurred_at: Some(at(1)), ..tick("screen_channels", 3) }, a, at(3)).await,
            "occurred_at",
        );
        let d = s.toggle_step(d.id, &StepToggle { done: false, ..tick("define_target", 3) }, a, at(4)).await.expect(b);
        assert_eq!((d.version, d.completed_steps.clone()), (4, vec!["check_fit".to_string()]), "[{b}] unticked");
        invalid(
            b,
            s.toggle_step(d.id, &StepToggle { done: false, ..tick("define_target", 4) }, a, at(5)).await,
            "done",
        );
        assert_eq!(s.deal(d.id).await.expect(b), d, "[{b}] read back");
        let events = s.deal_events(d.id).await.expect(b);
        assert_seq_contiguous(b, &events);
        assert_eq!(
            kinds(&events),
            vec![EventKind::Created, EventKind::StepCompleted, EventKind::StepCompleted, EventKind::StepReopened],
            "[{b}]"
        );
        assert_eq!(events[1].details["step"], json!("define_target"), "[{b}]");
        assert_eq!(events[3].details["step"], json!("define_target"), "[{b}]");
        assert_eq!(
            (events[3].occurred_at, events[3].from_node.as_str(), events[3].to_node.as_str()),
            (at(4), "lead_identification", "lead_identification"),
            "[{b}]"
        );
    }
}

#[tokio::test]
async fn deal_updates_produce_one_event_per_tracked_change() {
    for fx in fixtures().await {
        let (s, b, a) = (fx.s(), fx.b(), &fx.actor);
        let other = seed_user(s, Role::Manager).await;
        let account = s.create_account(&new_account("更新测试"), a.user, at(0)).await.expect(b);
        let mut nd = new_deal("更新", account.id, vec![], fx.process);
        nd.amount = Some(cny(100_000));
        let d = s.create_deal(&nd, a, at(0)).await.expect(b);

        let patch = DealPatch {
            version: 1,
            amount: Some(Some(cny(250_000))),
            expected_close_date: Some(Some(date(2025, 7, 15))),
            owner_id: Some(other.user),
            probability: Some(Some(70)),
            ..Default::default()
        };
        let u = s.update_deal(d.id, &patch, a, at(10)).await.expect(b);
        assert_eq!(
            (u.version, u.amount, u.expected_close_date, u.owner_id, u.probability, u.probability_overridden),
            (2, Some(cny(250_000)), Some(date(2025, 7, 15)), other.user, 70, true),
            "[{b}] one version per patch"
        );
        assert_eq!(u.updated_at, at(10), "[{b}]");
        assert_eq!(s.deal(d.id).await.expect(b), u, "[{b}] read back");
        let events = s.deal_events(d.id).await.expect(b);
        assert_seq_contiguous(b, &events);
        let new: Vec<&DealEvent> = events.iter().skip(1).collect();
        assert_eq!(
            new.iter().map(|e| e.kind).collect::<Vec<_>>(),
            vec![
                EventKind::AmountChanged,
                EventKind::ProbabilityChanged,
                EventKind::CloseDateChanged,
                EventKind::OwnerChanged
            ],
            "[{b}]"
        );
        for e in &new {
            assert_eq!(
                (e.amount_minor, e.currency, e.probability, e.expected_close_date, e.occurred_at, e.actor_id),
                (Some(250_000), Some(Currency::CNY), 70, Some(date(2025, 7, 15)), at(10), a.user),
                "[{b}] snapshot after the change: {e:?}"
            );
            assert_eq!(
                (e.from_node.as_str(), e.to_node.as_str()),
                ("lead_identification", "lead_identification"),
                "[{b}]"
            );
        }
        assert_eq!(
            new[0].details,
            json!({ "old": { "minor": 100_000, "currency": "CNY" }, "new": { "minor": 250_000, "currency": "CNY" } }),
            "[{b}]"
        );
        assert_eq!(new[1].details, json!({ "old": 10, "new": 70, "overridden": true }), "[{b}]");
        assert_eq!(new[2].details, json!({ "old": null, "new": "2025-07-15" }), "[{b}]");
        assert_eq!(new[3].details, json!({ "old": a.user.0, "new": other.user.0 }), "[{b}]");

        // Back to the stage default; clearing the amount.
        let u = s
            .update_deal(
                d.id,
                &DealPatch { version: 2, probability: Some(None), amount: Some(None), ..Default::default() },
                a,
                at(20),
            )
            .await
            .expect(b);
        assert_eq!((u.probability, u.probability_overridden, u.amount, u.version), (10, false, None, 3), "[{b}]");
        let events = s.deal_events(d.id).await.expect(b);
        let last2 = &events[events.len() - 2..];
        assert_eq!(kinds(last2), vec![EventKind::AmountChanged, EventKind::ProbabilityChanged], "[{b}]");
        assert_eq!((last2[0].amount_minor, last2[0].currency, last2[1].probability), (None, None, 10), "[{b}]");
        assert_eq!(last2[1].details, json!({ "old": 70, "new": 10, "overridden": false }), "[{b}]");

        // Other fields go into one `updated` event.
        let u = s
            .update_deal(
                d.id,
                &DealPatch {
                    version: 3,
                    title: Some(" 新标题 ".into()),
                    needs_summary: Some("需求".into()),
                    ..Default::default()
                },
                a,
                at(30),
            )
            .await
            .expect(b);
        assert_eq!((u.title.as_str(), u.needs_summary.as_str(), u.version), ("新标题", "需求", 4), "[{b}]");
        let e = s.deal_events(d.id).await.expect(b).pop().unwrap();
        assert_eq!(e.kind, EventKind::Updated, "[{b}]");
        assert_eq!(
            e.details,
            json!({ "title": { "old": "更新", "new": "新标题" }, "needs_summary": { "old": "", "new": "需求" } }),
            "[{b}]"
        );

        // No change, no event, no new version.
        let same = s
            .update_deal(
                d.id,
                &DealPatch {
                    version: 4,
                    title: Some("新标题".into()),
                    owner_id: Some(other.user),
                    ..Default::default()
                },
                a,
                at(40),
            )
            .await
            .expect(b);
        assert_eq!(same, u, "[{b}] a no-op patch changes nothing");
        let count = s.deal_events(d.id).await.expect(b).len();

        // Refusals leave everything as it was.
        conflict(
            b,
            s.update_deal(d.id, &DealPatch { version: 3, title: Some("旧".into()), ..Default::default() }, a, at(50))
                .await,
        );
        invalid(
            b,
            s.update_deal(
                d.id,
                &DealPatch {
                    version: 4, title: Some("回溯".into()), occurred_at: Some(at(25)), ..Default::default()
                },
                a,
                at(50),
            )
            .await,
            "occurred_at",
        );
        invalid(
            b,
            s.update_deal(
                d.id,
                &DealPatch { version: 4, owner_id: Some(UserId(9_999)), ..Default::default() },
                a,
                at(50),
            )
            .await,
            "owner_id",
        );
        invalid(
            b,
            s.update_deal(
                d.id,
                &DealPatch { version: 4, contact_ids: Some(vec![ContactId(9_999)]), ..Default::default() },
                a,
                at(50),
            )
            .await,
            "contact_ids[0]",
        );
        invalid(
            b,
            s.update_deal(
                d.id,
                &DealPatch { version: 4, amount: Some(Some(cny(-1))), ..Default::default() },
                a,
                at(50),
            )
            .await,
            "amount.minor",
        );
        invalid(
            b,
            s.update_deal(
                d.id,
                &DealPatch { version: 4, probability: Some(Some(101)), ..Default::default() },
                a,
                at(50),
            )
            .await,
            "probability",
        );
        assert_eq!(s.deal(d.id).await.expect(b), u, "[{b}] unchanged");
        assert_eq!(s.deal_events(d.id).await.expect(b).len(), count, "[{b}] no events");

        // A move clears an overridden probability back to the new stage's default.
        let d2 = s
            .update_deal(d.id, &DealPatch { version: 4, probability: Some(Some(5)), ..Default::default() }, a, at(60))
            .await
            .expect(b);
        let (moved, e) = s.move_deal(d.id, &lose(d2.version, "放弃"), a, at(70)).await.expect(b);
        assert_eq!((moved.probability, moved.probability_overridden), (0, false), "[{b}]");
        assert_eq!(e.details["probability_override_cleared"], json!(5), "[{b}]");
        let events = s.deal_events(d.id).await.expect(b);
        assert_seq_contiguous(b, &events);
        assert_eq!(events.len() as i64, 1 + 4 + 2 + 1 + 1 + 1, "[{b}]");
    }
}

#[tokio::test]
async fn deals_list_with_filters_and_pages() {
    for fx in fixtures().await {
        let (s, b, a) = (fx.s(), fx.b(), &fx.actor);
        let other = seed_user(s, Role::Rep).await;
        let yunfan = s.create_account(&new_account("上海云帆科技"), a.user, at(0)).await.expect(b);
        let acme = s.create_account(&new_account("Acme"), a.user, at(0)).await.expect(b);
        let mut ids = BTreeSet::new();
        for i in 0..7 {
            let mut nd =
                new_deal(&format!("商机 {i} 号"), if i % 2 == 0 { yunfan.id } else { acme.id }, vec![], fx.process);
            nd.owner_id = Some(if i < 3 { other.user } else { a.user });
            nd.channel = Some(if i == 6 { Channel::Referral } else { Channel::TradeShow });
            nd.amount = Some(cny(1_000 * i));
            ids.insert(s.create_deal(&nd, a, at(i)).await.expect(b).id.0);
        }
        let no_filter = DealFilter::default();
        let every = Scope::admin(fx.actor.user);
        let (seen, pages) =
            walk_pages(3, |p| s.list_deals(&no_filter, &every, p), |d: &salesflow_domain::store::DealSummary| d.id.0)
                .await;
        assert_eq!(pages, 3, "[{b}]");
        assert_newest_first_no_duplicates(b, &seen, &ids);
        let first = s
            .list_deals(&DealFilter::default(), &Scope::admin(fx.actor.user), PageRequest { limit: 1, after: None })
            .await
            .expect(b)
            .items
            .remove(0);
        assert_eq!(
            (
                first.title.as_str(),
                first.account_name.as_str(),
                first.amount,
                first.probability,
                first.current_node.as_str()
            ),
            ("商机 6 号", "上海云帆科技", Some(cny(6_000)), 10, "lead_identification"),
            "[{b}] summary fields"
        );

        let titles =
            |p: Page<salesflow_domain::store::DealSummary>| p.items.into_iter().map(|d| d.title).collect::<Vec<_>>();
        let f = |f: DealFilter| f;
        assert_eq!(
            titles(
                s.list_deals(
                    &f(DealFilter { owner: Some(other.user), ..Default::default() }),
                    &Scope::admin(fx.actor.user),
                    all()
                )
                .await
                .expect(b)
            ),
            vec!["商机 2 号", "商机 1 号", "商机 0 号"],
            "[{b}] owner"
        );
        assert_eq!(
            titles(
                s.list_deals(
                    &f(DealFilter { account: Some(acme.id), ..Default::default() }),
                    &Scope::admin(fx.actor.user),
                    all()
                )
                .await
                .expect(b)
            ),
            vec!["商机 5 号", "商机 3 号", "商机 1 号"],
            "[{b}] account"
        );
        assert_eq!(
            titles(
                s.list_deals(
                    &f(DealFilter { channel: Some(Channel::Referral), ..Default::default() }),
                    &Scope::admin(fx.actor.user),
                    all()
                )
                .await
                .expect(b)
            ),
            vec!["商机 6 号"],
            "[{b}] channel"
        );
        assert_eq!(
            titles(
                s.list_deals(
                    &f(DealFilter { text: Some("4 号".into()), ..Default::default() }),
                    &Scope::admin(fx.actor.user),
                    all()
                )
                .await
                .expect(b)
            ),
            vec!["商机 4 号"],
            "[{b}] text"
        );
        assert_eq!(
            s.list_deals(
                &f(DealFilter {
                    process: Some(fx.process),
                    stage: Some("lead_identification".into()),
                    status: Some(DealStatus::Open),
                    ..Default::default()
                }),
                &Scope::admin(fx.actor.user),
                all()
            )
            .await
            .expect(b)
            .items
            .len(),
            7,
            "[{b}] stage"
        );
        assert!(
            s.list_deals(
                &f(DealFilter { stage: Some("negotiation".into()), ..Default::default() }),
                &Scope::admin(fx.actor.user),
                all()
            )
            .await
            .expect(b)
            .items
            .is_empty(),
            "[{b}]"
        );
        assert!(
            s.list_deals(
                &f(DealFilter { process: Some(ProcessId(9_999)), ..Default::default() }),
                &Scope::admin(fx.actor.user),
                all()
            )
            .await
            .expect(b)
            .items
            .is_empty(),
            "[{b}]"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Integrity the port cannot show: checked through a raw connection of our own

#[tokio::test]
async fn deal_events_and_published_versions_cannot_be_changed_by_sql() {
    use sqlx::Connection;
    for fx in fixtures().await {
        let (s, b, a) = (fx.s(), fx.b(), &fx.actor);
        let (_, _, d) = deal_with_contact(&fx, "只追加", at(0)).await;
        s.toggle_step(d.id, &tick("check_fit", 1), a, at(1)).await.expect(b);
        let before = s.deal_events(d.id).await.expect(b);
        assert_eq!(before.len(), 2, "[{b}]");
        let statements = [
            "UPDATE deal_events SET kind = 'x'",
            "DELETE FROM deal_events",
            "UPDATE process_versions SET definition = '{}' WHERE status = 'published'",
            "DELETE FROM process_versions WHERE status = 'published'",
        ];
        let mut results: Vec<(String, std::result::Result<u64, String>)> = Vec::new();
        match b {
            "sqlite" => {
                let mut conn = sqlx::SqliteConnection::connect(&fx.ts.url).await.expect(b);
                for sql in statements {
                    let r =
                        sqlx::query(sql).execute(&mut conn).await.map(|r| r.rows_affected()).map_err(|e| e.to_string());
                    results.push((sql.to_string(), r));
                }
                conn.close().await.ok();
            }
            "postgres" => {
                let mut conn = sqlx::PgConnection::connect(&fx.ts.url).await.expect(b);
                for sql in statements.iter().copied().chain(["TRUNCATE deal_events CASCADE"]) {
                    let r =
                        sqlx::query(sql).execute(&mut conn).await.map(|r| r.rows_affected()).map_err(|e| e.to_string());
                    results.push((sql.to_string(), r));
                }
                conn.close().await.ok();
            }
            other => panic!("unknown backend {other}"),
        }
        for (sql, r) in &results {
            match r {
                Err(e) => assert!(
                    e.contains("append-only") || e.contains("immutable"),
                    "[{b}] `{sql}` refused for the right reason: {e}"
                ),
                Ok(n) => panic!("[{b}] `{sql}` must fail, but changed {n} rows"),
            }
        }
        assert_eq!(s.deal_events(d.id).await.expect(b), before, "[{b}] events intact");
        assert_eq!(s.latest_published(fx.process).await.expect(b).version, 1, "[{b}] process intact");
        // And the store still appends.
        let (_, e) = s.move_deal(d.id, &lose(2, "测试"), a, at(2)).await.expect(b);
        assert_eq!(e.seq, 3, "[{b}]");
    }
}

// ---------------------------------------------------------------------------------------------
// Concurrency

/// Runs `racers` concurrent calls released together; returns every result.
async fn race<F, Fut>(racers: usize, call: F) -> Vec<Result<()>>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<()>> + Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(racers));
    let handles: Vec<_> = (0..racers)
        .map(|i| {
            let barrier = barrier.clone();
            let fut = call(i);
            tokio::spawn(async move {
                barrier.wait().await;
                fut.await
            })
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("racer task"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_moves_of_one_version_let_exactly_one_win() {
    for fx in fixtures().await {
        let b = fx.b().to_string();
        for (n, racers) in [2usize, 8].into_iter().enumerate() {
            let (_, _, d) = deal_with_contact(&fx, &format!("并发 {n}"), at(0)).await;
            let results = race(racers, |i| {
                let store = fx.ts.store.clone();
                let actor = fx.actor;
                async move {
                    store.move_deal(d.id, &lose(d.version, &format!("原因 {i}")), &actor, at(10)).await.map(|_| ())
                }
            })
            .await;
            let wins = results.iter().filter(|r| r.is_ok()).count();
            assert_eq!(wins, 1, "[{b}] exactly one of {racers} concurrent moves wins: {results:?}");
            for r in results.iter().filter(|r| r.is_err()) {
                assert!(matches!(r, Err(Error::Conflict(_))), "[{b}] the others get Conflict, got {r:?}");
            }
            let events = fx.ts.store.deal_events(d.id).await.expect(&b);
            assert_eq!(events.len(), 2, "[{b}] exactly one event appended");
            assert_seq_contiguous(&b, &events);
            let after = fx.ts.store.deal(d.id).await.expect(&b);
            assert_eq!((after.version, after.status), (2, DealStatus::Lost), "[{b}] one version step");
            assert_eq!(
                after.lost_reason,
                events[1].details["lost_reason"].as_str().map(String::from),
                "[{b}] the winner's reason"
            );
        }
    }
}

/// Racers that make different changes from the same version: a move, an update and step
/// toggles. Exactly one wins; every loser must hear Conflict (its version is stale), not a
/// validation error computed from a half-updated read.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_changes_of_one_version_lose_with_conflict() {
    let mut problems = Vec::new();
    for fx in fixtures().await {
        let b = fx.b().to_string();
        for round in 0..20 {
            let (_, _, d) = deal_with_contact(&fx, &format!("并发步骤 {round}"), at(0)).await;
            let d = fx.ts.store.toggle_step(d.id, &tick("check_fit", 1), &fx.actor, at(1)).await.expect(&b);
            let results = race(6, |i| {
                let store = fx.ts.store.clone();
                let actor = fx.actor;
                async move {
                    match i {
                        0 => store.move_deal(d.id, &mv("needs_analysis", d.version), &actor, at(10)).await.map(|_| ()),
                        1 => store
                            .toggle_step(
                                d.id,
                                &StepToggle { done: false, ..tick("check_fit", d.version) },
                                &actor,
                                at(10),
                            )
                            .await
                            .map(|_| ()),
                        2 => store
                            .update_deal(
                                d.id,
                                &DealPatch { version: d.version, contact_ids: Some(vec![]), ..Default::default() },
                                &actor,
                                at(10),
                            )
                            .await
                            .map(|_| ()),
                        _ => {
                            store.toggle_step(d.id, &tick("define_target", d.version), &actor, at(10)).await.map(|_| ())
                        }
                    }
                }
            })
            .await;
            assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "[{b}] round {round}: one winner: {results:?}");
            for r in results.iter().filter(|r| r.is_err()) {
                if !matches!(r, Err(Error::Conflict(_))) {
                    problems.push(format!("[{b}] round {round}: a loser got {r:?}"));
                }
            }
            let events = fx.ts.store.deal_events(d.id).await.expect(&b);
            assert_eq!(events.len(), 3, "[{b}] round {round}: one event appended");
        }
    }
    assert!(problems.is_empty(), "losers must get Conflict:\n{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Bulk history

#[tokio::test]
async fn imported_history_reads_back_and_ids_continue_after_it() {
    for fx in fixtures().await {
        let (s, b, a) = (fx.s(), fx.b(), &fx.actor);
        // Something written the ordinary way first, so imported ids start above it.
        let (_, _, existing) = deal_with_contact(&fx, "已有", at(0)).await;
        let max = s.max_ids().await.expect(b);
        assert_eq!(
            (max.account, max.contact, max.deal, max.event),
            (existing.account_id.0, existing.contact_ids[0].0, existing.id.0, max.event),
            "[{b}]"
        );
        assert!(max.event >= 1, "[{b}]");
        let before = counts(&fx).await;

        let t0 = at(-90 * 86_400);
        let day = |n: i64| t0 + chrono::Duration::days(n);
        let acc = |i: i64, name: &str| Account {
            id: AccountId(max.account + i),
            name: name.into(),
            industry: "零售".into(),
            region: "华南".into(),
            website: "https://example.com".into(),
            customer_group: if i == 1 { "经销商".into() } else { String::new() },
            owner_id: a.user,
            version: 1,
            created_at: day(0),
            updated_at: day(0),
        };
        let accounts = vec![acc(1, "广州花城百货有限公司"), acc(2, "厦门鹭岛茶业")];
        let con = |i: i64, account: AccountId, name: &str, email: &str| Contact {
            id: ContactId(max.contact + i),
            account_id: Some(account),
            name: name.into(),
            title: "店长".into(),
            email: Some(email.into()),
            phone: Some("+86 139 1234 567".replace(' ', "") + &i.to_string()),
            wechat_id: Some(format!("wx{i}")),
            preferred_channel: Some(PreferredChannel::Phone),
            consent: Consent { email: true, sms: false, phone: true, wechat: false },
            owner_id: a.user,
            version: 1,
            created_at: day(1),
            updated_at: day(1),
        };
        let contacts =
            vec![con(1, accounts[0].id, "黄敏", "huang@huacheng.cn"), con(2, accounts[1].id, "林涛", "lin@ludao.cn")];
        let deal1_id = DealId(max.deal + 1);
        let deal2_id = DealId(max.deal + 2);
        let lead = Lead {
            id: LeadId(max.lead + 1),
            name: "黄敏".into(),
            company: "广州花城百货".into(),
            email: Some("huang@huacheng.cn".into()),
            phone: None,
            channel: Channel::TradeShow,
            status: LeadStatus::Converted,
            disqualify_reason: None,
            owner_id: a.user,
            notes: "展会名片".into(),
            converted_deal_id: Some(deal1_id),
            version: 4,
            created_at: day(0),
            updated_at: day(1),
        };
        let deal1 = Deal {
            id: deal1_id,
            title: "花城百货 门店系统".into(),
            account_id: accounts[0].id,
            contact_ids: vec![contacts[0].id],
            owner_id: a.user,
            process_id: fx.process,
            process_version: 1,
            current_node: "needs_analysis".into(),
            amount: Some(cny(5_000_000)),
            expected_close_date: Some(date(2025, 4, 30)),
            probability: 25,
            probability_overridden: false,
            status: DealStatus::Open,
            lost_reason: None,
            needs_summary: String::new(),
            channel: Some(Channel::TradeShow),
            lead_id: Some(lead.id),
            completed_steps: vec!["first_contact".into()],
            needs_known: vec![],
            version: 3,
            stage_entered_at: day(5),
            created_at: day(1),
            updated_at: day(6),
            closed_at: None,
        };
        let deal2 = Deal {
            id: deal2_id,
            title: "鹭岛茶业 会员项目".into(),
            account_id: accounts[1].id,
            contact_ids: vec![contacts[1].id, contacts[0].id],
            current_node: "lost".into(),
            amount: None,
            expected_close_date: None,
            probability: 0,
            status: DealStatus::Lost,
            lost_reason: Some("预算冻结".into()),
            needs_summary: "会员积分".into(),
            channel: None,
            lead_id: None,
            completed_steps: vec![],
            needs_known: vec![],
            version: 2,
            stage_entered_at: day(9),
            created_at: day(2),
            updated_at: day(9),
            closed_at: Some(day(9)),
            ..deal1.clone()
        };
        let mut next_event = max.event;
        let mut ev = |deal: &Deal,
                      seq: i64,
                      kind: EventKind,
                      from: &str,
                      to: &str,
                      edge: Option<&str>,
                      when: DateTime<Utc>,
                      probability: u8,
                      details: serde_json::Value| {
            next_event += 1;
            DealEvent {
                id: next_event,
                deal_id: deal.id,
                seq,
                kind,
                process_id: fx.process,
                process_version: 1,
                from_node: from.into(),
                to_node: to.into(),
                edge_id: edge.map(Into::into),
                actor_id: a.user,
                occurred_at: when,
                recorded_at: when,
                amount_minor: deal.amount.map(|m| m.minor),
                currency: deal.amount.map(|m| m.currency),
                probability,
                expected_close_date: deal.expected_close_date,
                details,
            }
        };
        let events = vec![
            ev(
                &deal1,
                1,
                EventKind::Created,
                "lead_identification",
                "lead_identification",
                None,
                day(1),
                10,
                json!({ "title": deal1.title }),
            ),
            ev(
                &deal2,
                1,
                EventKind::Created,
                "lead_identification",
                "lead_identification",
                None,
                day(2),
                10,
                json!({ "title": deal2.title }),
            ),
            ev(
                &deal1,
                2,
                EventKind::Moved,
                "lead_identification",
                "needs_analysis",
                Some("qualified"),
                day(5),
                25,
                json!({ "route": ["qualified"], "label": "确认为潜在客户" }),
            ),
            ev(
                &deal1,
                3,
                EventKind::StepCompleted,
                "needs_analysis",
                "needs_analysis",
                None,
                day(6),
                25,
                json!({ "step": "first_contact" }),
            ),
            ev(
                &deal2,
                2,
                EventKind::Moved,
                "lead_identification",
                "lost",
                Some("lead_identification_lost"),
                day(9),
                0,
                json!({ "lost_reason": "预算冻结" }),
            ),
        ];
        let batch = HistoryBatch {
            accounts: accounts.clone(),
            contacts: contacts.clone(),
            leads: vec![lead.clone()],
            deals: vec![deal1.clone(), deal2.clone()],
            steps: vec![
                (deal1.id, "needs_analysis".into(), "first_contact".into(), day(6)),
                // A step of a stage the deal has left: kept, but not shown as current.
                (deal1.id, "lead_identification".into(), "check_fit".into(), day(4)),
            ],
            events: events.clone(),
        };
        s.import_history(&batch).await.expect(b);
        s.finish_import().await.expect(b);

        assert_eq!(s.account(accounts[0].id).await.expect(b), accounts[0], "[{b}] account");
        assert_eq!(s.contact(contacts[1].id).await.expect(b), contacts[1], "[{b}] contact");
        assert_eq!(s.lead(lead.id).await.expect(b), lead, "[{b}] lead");
        assert_eq!(s.deal(deal1.id).await.expect(b), deal1, "[{b}] open deal with its current steps");
        assert_eq!(s.deal(deal2.id).await.expect(b), deal2, "[{b}] lost deal, contacts in order");
        let read1 = s.deal_events(deal1.id).await.expect(b);
        let want1: Vec<DealEvent> = events.iter().filter(|e| e.deal_id == deal1.id).cloned().collect();
        assert_eq!(read1, want1, "[{b}] events of deal 1 in seq order");
        assert_eq!(s.deal_events(deal2.id).await.expect(b).len(), 2, "[{b}]");
        let max2 = s.max_ids().await.expect(b);
        assert_eq!(
            (max2.account, max2.contact, max2.lead, max2.deal, max2.event),
            (max.account + 2, max.contact + 2, max.lead + 1, max.deal + 2, max.event + 5),
            "[{b}] max ids"
        );
        assert_eq!(counts(&fx).await, (before.0 + 2, before.1 + 2, before.2 + 1, before.3 + 2), "[{b}]");
        let dups = s
            .find_duplicates(
                &DuplicateKeys::of(Some("HUANG@huacheng.cn"), None, Some("广州花城百货")),
                None,
                &Scope::admin(fx.actor.user),
            )
            .await
            .expect(b);
        assert!(
            dups.iter().any(|d| d.entity == "contact" && d.id == contacts[0].id.0),
            "[{b}] imported keys are normalised: {dups:?}"
        );
        assert!(dups.iter().any(|d| d.entity == "account" && d.id == accounts[0].id.0), "[{b}] {dups:?}");

        // The imported deal goes on where its history ended.
        let now = at(0);
        let (moved, e) = s.move_deal(deal1.id, &lose(deal1.version, "客户转向竞品"), a, now).await.expect(b);
        assert_eq!((moved.version, e.seq), (4, 4), "[{b}] seq continues after the import");
        assert!(e.id > max2.event, "[{b}] a new event id after the imported ones");
        invalid(b, s.toggle_step(deal2.id, &tick("check_fit", 2), a, now).await, "step");

        // Ordinary writes get fresh ids (PostgreSQL: the sequences were advanced).
        let acct = s.create_account(&new_account("导入之后"), a.user, now).await.expect(b);
        assert!(acct.id.0 > max2.account, "[{b}] account id {} after {}", acct.id, max2.account);
        let c = s.create_contact(&new_contact(Some(acct.id), "新人", None, None), a.user, now).await.expect(b);
        assert!(c.id.0 > max2.contact, "[{b}]");
        let l = s.create_lead(&new_lead("新线索", "新公司", None, None, Channel::Other), a.user, now).await.expect(b);
        assert!(l.id.0 > max2.lead, "[{b}]");
        let d = s.create_deal(&new_deal("导入后的商机", acct.id, vec![c.id], fx.process), a, now).await.expect(b);
        assert!(d.id.0 > max2.deal, "[{b}]");
        seed_user(s, Role::Viewer).await;

        // A batch that collides with existing rows is refused whole.
        let before = counts(&fx).await;
        let clash = HistoryBatch {
            accounts: vec![Account { id: AccountId(max2.account + 100), ..accounts[0].clone() }, accounts[1].clone()],
            ..Default::default()
        };
        assert!(s.import_history(&clash).await.is_err(), "[{b}] duplicate id refused");
        assert_eq!(counts(&fx).await, before, "[{b}] nothing of the refused batch was written");
        not_found(b, s.account(AccountId(max2.account + 100)).await);
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions: bugs found and fixed, kept as specifications.

#[tokio::test]
async fn updates_normalise_input_like_creates() {
    for fx in fixtures().await {
        let (s, b) = (fx.s(), fx.b());
        let a = s.create_account(&new_account("Acme"), fx.actor.user, at(0)).await.expect(b);
        invalid(
            b,
            s.update_account(a.id, &AccountPatch { version: 1, name: Some("——".into()), ..Default::default() }, at(1))
                .await,
            "name",
        );
        let c = s.create_contact(&new_contact(None, "X", None, None), fx.actor.user, at(0)).await.expect(b);
        let patch = ContactPatch {
            version: 1,
            email: Some(Some(" New@Example.com ".into())),
            phone: Some(Some(" 138 0013 8000 ".into())),
            wechat_id: Some(Some("  ".into())),
            ..Default::default()
        };
        let c = s.update_contact(c.id, &patch, at(1)).await.expect(b);
        assert_eq!(
            (c.email.as_deref(), c.phone.as_deref(), c.wechat_id.as_deref()),
            (Some("New@Example.com"), Some("138 0013 8000"), None),
            "[{b}] contact"
        );
        let l = s.create_lead(&new_lead("X", "Y", None, None, Channel::Other), fx.actor.user, at(0)).await.expect(b);
        let l = s
            .update_lead(
                l.id,
                &LeadPatch { version: 1, email: Some(Some(" New@Example.com ".into())), ..Default::default() },
                at(1),
            )
            .await
            .expect(b);
        assert_eq!(l.email.as_deref(), Some("New@Example.com"), "[{b}] lead");
    }
}

#[tokio::test]
async fn text_search_finds_non_ascii_upper_case() {
    for fx in fixtures().await {
        let (s, b) = (fx.s(), fx.b());
        s.create_account(&new_account("Ärztekammer Berlin"), fx.actor.user, at(0)).await.expect(b);
        for text in ["Ärztekammer", "ärztekammer", "ÄRZTEKAMMER"] {
            let f = AccountFilter { owner: None, text: Some(text.into()) };
            assert_eq!(
                s.list_accounts(&f, &Scope::admin(fx.actor.user), all()).await.expect(b).items.len(),
                1,
                "[{b}] search `{text}`"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Users, teams and shares

/// The scope a user has: their role and their teams, as the web layer resolves it.
async fn scope_of(s: &dyn Store, user: UserId) -> Scope {
    let u = s.user(user).await.expect("user");
    Scope::for_user(&u, &s.team_reach(user).await.expect("team reach"))
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> i64) -> BTreeSet<i64> {
    items.iter().map(id).collect()
}

#[tokio::test]
async fn users_are_updated_and_keep_password_hashes() {
    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    for ts in stores().await {
        let (s, b) = (&*ts.store, ts.name.as_str());
        let new = NewUser {
            name: "陈静".into(),
            email: "chen.jing@example.com".into(),
            locale: "zh-CN".into(),
            time_zone: "Asia/Shanghai".into(),
            role: Role::Rep,
            password_hash: Some(HASH.into()),
        };
        let u = s.create_user(&new, at(0)).await.expect(b);
        assert_eq!(s.password_hash(u.id).await.expect(b).as_deref(), Some(HASH), "[{b}] hash stored on create");
        let bare = s
            .create_user(
                &NewUser { email: "no.password@example.com".into(), password_hash: None, ..new.clone() },
                at(0),
            )
            .await
            .expect(b);
        assert_eq!(s.password_hash(bare.id).await.expect(b), None, "[{b}] no hash");
        invalid(
            b,
            s.create_user(
                &NewUser { email: "tz@example.com".into(), time_zone: "Mars Base".into(), ..new.clone() },
                at(0),
            )
            .await,
            "time_zone",
        );

        // A patch changes what it names and nothing else.
        let patch = UserPatch {
            role: Some(Role::Manager),
            active: Some(false),
            locale: Some("en".into()),
            ..UserPatch::default()
        };
        let changed = s.update_user(u.id, &patch, at(1)).await.expect(b);
        assert_eq!(
            changed,
            User { role: Role::Manager, active: false, locale: "en".into(), ..u.clone() },
            "[{b}] role, active and locale changed"
        );
        assert_eq!(s.user(u.id).await.expect(b), changed, "[{b}] read back");
        let renamed = s
            .update_user(
                u.id,
                &UserPatch { name: Some(" 陈静怡 ".into()), active: Some(true), ..Default::default() },
                at(2),
            )
            .await
            .expect(b);
        assert_eq!((renamed.name.as_str(), renamed.active, renamed.role), ("陈静怡", true, Role::Manager), "[{b}]");
        assert_eq!(s.update_user(u.id, &UserPatch::default(), at(3)).await.expect(b), renamed, "[{b}] empty patch");
        assert_eq!(s.password_hash(u.id).await.expect(b).as_deref(), Some(HASH), "[{b}] an update keeps the hash");

        // Bad input names every field, and changes nothing.
        let bad = UserPatch {
            locale: Some("fr".into()),
            time_zone: Some("not a zone!".into()),
            name: Some("  ".into()),
            ..Default::default()
        };
        let errs = invalid(b, s.update_user(u.id, &bad, at(4)).await, "locale");
        assert!(errs.iter().any(|e| e.field == "time_zone"), "[{b}] time zone named too: {errs:?}");
        assert!(errs.iter().any(|e| e.field == "name"), "[{b}] name named too: {errs:?}");
        invalid(
            b,
            s.update_user(u.id, &UserPatch { time_zone: Some("".into()), ..Default::default() }, at(4)).await,
            "time_zone",
        );
        assert_eq!(s.user(u.id).await.expect(b), renamed, "[{b}] unchanged by refused patches");
        not_found(
            b,
            s.update_user(UserId(9_999), &UserPatch { active: Some(false), ..Default::default() }, at(4)).await,
        );

        // Passwords.
        s.set_password_hash(bare.id, "$argon2id$new", at(5)).await.expect(b);
        assert_eq!(s.password_hash(bare.id).await.expect(b).as_deref(), Some("$argon2id$new"), "[{b}] set");
        s.set_password_hash(bare.id, "$argon2id$newer", at(6)).await.expect(b);
        assert_eq!(s.password_hash(bare.id).await.expect(b).as_deref(), Some("$argon2id$newer"), "[{b}] replaced");
        assert_eq!(s.password_hash(u.id).await.expect(b).as_deref(), Some(HASH), "[{b}] others keep theirs");
        not_found(b, s.password_hash(UserId(9_999)).await);
        not_found(b, s.set_password_hash(UserId(9_999), "x", at(6)).await);
    }
}

#[tokio::test]
async fn teams_members_and_reach() {
    for ts in stores().await {
        let (s, b) = (&*ts.store, ts.name.as_str());
        let manager = seed_user(s, Role::Manager).await.user;
        let r1 = seed_user(s, Role::Rep).await.user;
        let r2 = seed_user(s, Role::Rep).await.user;
        let viewer = seed_user(s, Role::Viewer).await.user;
        let outsider = seed_user(s, Role::Rep).await.user;
        let boss = seed_user(s, Role::Manager).await.user;

        let east = s
            .create_team(
                &NewTeam { name: "华东一组".into(), manager_id: Some(manager), members: vec![viewer, r2, r1] },
                at(0),
            )
            .await
            .expect(b);
        assert_eq!(
            (east.name.as_str(), east.manager_id, east.members.clone()),
            ("华东一组", Some(manager), vec![r1, r2, viewer]),
            "[{b}] members sorted by id"
        );
        assert_eq!(s.team(east.id).await.expect(b), east, "[{b}] read back");

        // Refusals name their field and create nothing.
        let dup = NewTeam { name: "华东一组".into(), manager_id: None, members: vec![] };
        invalid(b, s.create_team(&dup, at(1)).await, "name");
        invalid(b, s.create_team(&NewTeam { name: " ".into(), ..Default::default() }, at(1)).await, "name");
        let unknown = NewTeam { name: "幽灵组".into(), manager_id: None, members: vec![r1, UserId(99_999)] };
        invalid(b, s.create_team(&unknown, at(1)).await, "members[1]");
        let no_manager = NewTeam { name: "幽灵组".into(), manager_id: Some(UserId(99_999)), members: vec![] };
        invalid(b, s.create_team(&no_manager, at(1)).await, "manager_id");
        assert_eq!(s.list_teams().await.expect(b), vec![east.clone()], "[{b}] nothing else created");

        // The manager is a member of another team, managed by `boss`.
        let south = s
            .create_team(&NewTeam { name: "华南组".into(), manager_id: Some(boss), members: vec![manager] }, at(2))
            .await
            .expect(b);
        assert_eq!(s.list_teams().await.expect(b), vec![east.clone(), south.clone()], "[{b}] by id");

        let reach = |user| async move { s.team_reach(user).await.expect("team reach") };
        assert_eq!(
            reach(manager).await,
            TeamReach { managed: vec![r1, r2, viewer], fellow: vec![manager] },
            "[{b}] a manager reaches the team they manage"
        );
        assert_eq!(reach(r1).await, TeamReach { managed: vec![], fellow: vec![r1, r2, viewer] }, "[{b}] a member");
        assert_eq!(reach(boss).await, TeamReach { managed: vec![manager], fellow: vec![] }, "[{b}] managing only");
        assert_eq!(reach(outsider).await, TeamReach::default(), "[{b}] an outsider reaches no one");

        // Members are replaced as a whole; other fields stay.
        let smaller = s
            .update_team(east.id, &TeamPatch { members: Some(vec![viewer, r1]), ..Default::default() }, at(3))
            .await
            .expect(b);
        assert_eq!(smaller, Team { members: vec![r1, viewer], ..east.clone() }, "[{b}] members replaced");
        assert_eq!(s.team(east.id).await.expect(b), smaller, "[{b}] read back");
        assert_eq!(reach(r2).await, TeamReach::default(), "[{b}] a removed member");
        assert_eq!(reach(manager).await.managed, vec![r1, viewer], "[{b}]");

        invalid(
            b,
            s.update_team(east.id, &TeamPatch { name: Some("华南组".into()), ..Default::default() }, at(4)).await,
            "name",
        );
        let bad_members = TeamPatch { members: Some(vec![UserId(99_999)]), ..Default::default() };
        invalid(b, s.update_team(east.id, &bad_members, at(4)).await, "members[0]");
        let bad_manager = TeamPatch { manager_id: Some(UserId(99_999)), ..Default::default() };
        invalid(b, s.update_team(east.id, &bad_manager, at(4)).await, "manager_id");
        assert_eq!(s.team(east.id).await.expect(b), smaller, "[{b}] refused patches change nothing");
        not_found(b, s.update_team(TeamId(9_999), &TeamPatch::default(), at(4)).await);

        let renamed = s
            .update_team(
                east.id,
                &TeamPatch { name: Some("华东二组".into()), manager_id: Some(boss), members: None },
                at(5),
            )
            .await
            .expect(b);
        assert_eq!(
            renamed,
            Team { name: "华东二组".into(), manager_id: Some(boss), ..smaller.clone() },
            "[{b}] renamed, new manager"
        );
        assert_eq!(reach(manager).await.managed, Vec::<UserId>::new(), "[{b}] no longer manages it");
        assert_eq!(reach(boss).await.managed, vec![manager, r1, viewer], "[{b}] the members of both teams");

        s.delete_team(east.id).await.expect(b);
        not_found(b, s.team(east.id).await);
        not_found(b, s.delete_team(east.id).await);
        assert_eq!(s.list_teams().await.expect(b), vec![south.clone()], "[{b}]");
        assert_eq!(reach(r1).await, TeamReach::default(), "[{b}] members go with their team");
        assert_eq!(reach(boss).await.managed, vec![manager], "[{b}]");
        // The name is free again.
        s.create_team(&NewTeam { name: "华东二组".into(), ..Default::default() }, at(6)).await.expect(b);
    }
}

/// Reps A, B and C in one team managed by M with viewer V in it, and an admin: `[A, B, C, M, V, admin]`;
/// an account, a contact, a lead and deals for A (four: two in CNY, one in USD, one without
/// amount) and for B (one), by owner.
#[allow(clippy::type_complexity)]
async fn scoped_world(
    fx: &Fx,
) -> ([UserId; 6], BTreeMap<UserId, (Account, Contact, Lead, Vec<salesflow_domain::records::Deal>)>) {
    let s = fx.s();
    let a = seed_user(s, Role::Rep).await.user;
    let bb = seed_user(s, Role::Rep).await.user;
    let c = seed_user(s, Role::Rep).await.user;
    let m = seed_user(s, Role::Manager).await.user;
    let v = seed_user(s, Role::Viewer).await.user;
    let admin = seed_user(s, Role::Admin).await.user;
    s.create_team(&NewTeam { name: "一组".into(), manager_id: Some(m), members: vec![a, bb, c, v] }, at(0))
        .await
        .expect("team");
    let deals: BTreeMap<UserId, Vec<(Option<Money>, u8)>> = BTreeMap::from([
        (
            a,
            vec![
                (Some(cny(10_001)), 50),
                (Some(cny(10_001)), 50),
                (Some(Money { minor: 3_000, currency: Currency::USD }), 25),
                (None, 10),
            ],
        ),
        (bb, vec![(Some(cny(7_000)), 30)]),
    ]);
    let mut out = BTreeMap::new();
    for (i, (owner, planned)) in deals.into_iter().enumerate() {
        let actor = Actor { user: owner, role: Role::Rep };
        let account = s.create_account(&new_account("重复公司"), owner, at(1)).await.expect("account");
        let email = format!("owner{i}@example.com");
        let contact = s
            .create_contact(&new_contact(Some(account.id), "联系人", Some(&email), None), owner, at(1))
            .await
            .expect("contact");
        let lead = s
            .create_lead(&new_lead("线索", "重复公司", Some("dup@example.com"), None, Channel::Referral), owner, at(1))
            .await
            .expect("lead");
        let mut made = Vec::new();
        for (j, (amount, probability)) in planned.into_iter().enumerate() {
            let mut nd = new_deal(&format!("商机 {i}-{j}"), account.id, vec![contact.id], fx.process);
            nd.amount = amount;
            nd.probability = Some(probability);
            made.push(s.create_deal(&nd, &actor, at(2 + j as i64)).await.expect("deal"));
        }
        out.insert(owner, (account, contact, lead, made));
    }
    ([a, bb, c, m, v, admin], out)
}

#[tokio::test]
async fn lists_and_totals_follow_the_scope() {
    for fx in fixtures().await {
        let (s, b) = (fx.s(), fx.b());
        let ([a, bb, c, m, v, admin], world) = scoped_world(&fx).await;
        let (a_account, a_contact, a_lead, a_deals) = &world[&a];
        let (b_account, b_contact, b_lead, b_deals) = &world[&bb];
        let b_deal = &b_deals[0];
        let deal_ids = |owner: &[UserId]| -> BTreeSet<i64> {
            owner.iter().flat_map(|o| world[o].3.iter().map(|d| d.id.0)).collect()
        };

        // (scope, whose records it reaches)
        let expectations =
            [(a, vec![a]), (bb, vec![bb]), (c, vec![]), (m, vec![a, bb]), (v, vec![a, bb]), (admin, vec![a, bb])];
        for (user, reached) in &expectations {
            let scope = scope_of(s, *user).await;
            let label = format!("[{b}] user {user} ({:?})", scope.role);
            let deals = s.list_deals(&DealFilter::default(), &scope, all()).await.expect(b);
            assert_eq!(ids(&deals.items, |d| d.id.0), deal_ids(reached), "{label}: deals");
            let accounts = s.list_accounts(&AccountFilter::default(), &scope, all()).await.expect(b);
            let want: BTreeSet<i64> = reached.iter().map(|o| world[o].0.id.0).collect();
            assert_eq!(ids(&accounts.items, |x| x.id.0), want, "{label}: accounts");
            let contacts = s.list_contacts(&ContactFilter::default(), &scope, all()).await.expect(b);
            let want: BTreeSet<i64> = reached.iter().map(|o| world[o].1.id.0).collect();
            assert_eq!(ids(&contacts.items, |x| x.id.0), want, "{label}: contacts");
            let leads = s.list_leads(&LeadFilter::default(), &scope, all()).await.expect(b);
            let want: BTreeSet<i64> = reached.iter().map(|o| world[o].2.id.0).collect();
            assert_eq!(ids(&leads.items, |x| x.id.0), want, "{label}: leads");
            let totals = s.deal_totals(&DealFilter::default(), &scope).await.expect(b);
            assert_eq!(totals.count, deal_ids(reached).len() as u64, "{label}: count");
        }

        // Exact sums: per currency, sorted by code; deals without an amount count but add nothing;
        // the weighted sum is rounded down once per currency total (20 002 × 50 % = 10 001).
        let usd = |minor| Money { minor, currency: Currency::USD };
        let scope_a = scope_of(s, a).await;
        let totals_a = s.deal_totals(&DealFilter::default(), &scope_a).await.expect(b);
        assert_eq!(
            totals_a,
            DealTotals {
                count: 4,
                amount: vec![cny(20_002), usd(3_000)],
                weighted_amount: vec![cny(10_001), usd(750)]
            },
            "[{b}] A's totals leave B's deal out"
        );
        let scope_m = scope_of(s, m).await;
        let both = DealTotals {
            count: 5,
            amount: vec![cny(27_002), usd(3_000)],
            weighted_amount: vec![cny(12_101), usd(750)],
        };
        assert_eq!(s.deal_totals(&DealFilter::default(), &scope_m).await.expect(b), both, "[{b}] the manager's");
        let scope_c = scope_of(s, c).await;
        assert_eq!(s.deal_totals(&DealFilter::default(), &scope_c).await.expect(b), DealTotals::default(), "[{b}] C's");
        // Filters and scope combine, for the list and the totals alike.
        let of_b = DealFilter { owner: Some(bb), ..Default::default() };
        assert!(s.list_deals(&of_b, &scope_a, all()).await.expect(b).items.is_empty(), "[{b}] B's deals for A");
        assert_eq!(s.deal_totals(&of_b, &scope_a).await.expect(b), DealTotals::default(), "[{b}]");

        // Sharing B's records with A opens them to A, in lists and totals.
        for (kind, id) in [
            (RecordKind::Deal, b_deal.id.0),
            (RecordKind::Account, b_account.id.0),
            (RecordKind::Contact, b_contact.id.0),
            (RecordKind::Lead, b_lead.id.0),
        ] {
            let share = Share { record_kind: kind, record_id: id, user_id: a, shared_by: bb, created_at: at(10) };
            s.share(&share).await.expect(b);
            s.share(&Share { created_at: at(11), ..share.clone() }).await.expect(b);
            assert_eq!(s.shares(kind, id).await.expect(b), vec![share.clone()], "[{b}] sharing twice is one share");
            assert!(s.is_shared(kind, id, a).await.expect(b), "[{b}]");
            assert!(!s.is_shared(kind, id, c).await.expect(b), "[{b}] not with C");
        }
        let shared = s.list_deals(&DealFilter::default(), &scope_a, all()).await.expect(b);
        let mut want = deal_ids(&[a]);
        want.insert(b_deal.id.0);
        assert_eq!(ids(&shared.items, |d| d.id.0), want, "[{b}] A now sees B's shared deal");
        assert_eq!(s.deal_totals(&DealFilter::default(), &scope_a).await.expect(b), both, "[{b}] and counts it");
        let no_filter = DealFilter::default();
        let (seen, _) = walk_pages(2, |p| s.list_deals(&no_filter, &scope_a, p), |d| d.id.0).await;
        assert_newest_first_no_duplicates(b, &seen, &want);
        let only_b = s.list_deals(&of_b, &scope_a, all()).await.expect(b);
        assert_eq!(ids(&only_b.items, |d| d.id.0), BTreeSet::from([b_deal.id.0]), "[{b}] filters still apply");
        let accounts = s.list_accounts(&AccountFilter::default(), &scope_a, all()).await.expect(b);
        assert_eq!(ids(&accounts.items, |x| x.id.0), BTreeSet::from([a_account.id.0, b_account.id.0]), "[{b}]");
        let contacts = s.list_contacts(&ContactFilter::default(), &scope_a, all()).await.expect(b);
        assert_eq!(ids(&contacts.items, |x| x.id.0), BTreeSet::from([a_contact.id.0, b_contact.id.0]), "[{b}]");
        let leads = s.list_leads(&LeadFilter::default(), &scope_a, all()).await.expect(b);
        assert_eq!(ids(&leads.items, |x| x.id.0), BTreeSet::from([a_lead.id.0, b_lead.id.0]), "[{b}]");
        // A share opens a record to its user only.
        let c_deals = s.list_deals(&DealFilter::default(), &scope_c, all()).await.expect(b);
        assert!(c_deals.items.is_empty(), "[{b}] C still sees nothing");

        // Unsharing closes it again.
        assert!(s.unshare(RecordKind::Deal, b_deal.id.0, a).await.expect(b), "[{b}] a share was removed");
        assert!(!s.unshare(RecordKind::Deal, b_deal.id.0, a).await.expect(b), "[{b}] no share left");
        assert!(!s.is_shared(RecordKind::Deal, b_deal.id.0, a).await.expect(b), "[{b}]");
        assert!(s.shares(RecordKind::Deal, b_deal.id.0).await.expect(b).is_empty(), "[{b}]");
        let unshared = s.list_deals(&DealFilter::default(), &scope_a, all()).await.expect(b);
        assert_eq!(ids(&unshared.items, |d| d.id.0), deal_ids(&[a]), "[{b}] gone from A's list");
        assert_eq!(s.deal_totals(&DealFilter::default(), &scope_a).await.expect(b), totals_a, "[{b}] and totals");

        // Shares are listed by user.
        for user in [c, m] {
            let share = Share {
                record_kind: RecordKind::Deal,
                record_id: b_deal.id.0,
                user_id: user,
                shared_by: bb,
                created_at: at(12),
            };
            s.share(&share).await.expect(b);
        }
        let users: Vec<UserId> =
            s.shares(RecordKind::Deal, b_deal.id.0).await.expect(b).iter().map(|x| x.user_id).collect();
        assert_eq!(users, vec![c, m], "[{b}] by user id");
        let c_deals = s.list_deals(&DealFilter::default(), &scope_c, all()).await.expect(b);
        assert_eq!(ids(&c_deals.items, |d| d.id.0), BTreeSet::from([b_deal.id.0]), "[{b}] C: shared only");
        s.unshare(RecordKind::Deal, b_deal.id.0, c).await.expect(b);

        // Duplicates: only the records the scope reaches (A's lead and account still include
        // B's, which stay shared with A).
        let keys = DuplicateKeys::of(Some("DUP@example.com"), None, Some("重复公司"));
        let keys = &keys;
        let found = |scope: Scope| async move {
            let d = s.find_duplicates(keys, None, &scope).await.expect("duplicates");
            d.into_iter().map(|d| (d.entity, d.id)).collect::<BTreeSet<_>>()
        };
        let dup_of = |owners: &[UserId]| -> BTreeSet<(String, i64)> {
            owners
                .iter()
                .flat_map(|o| [("lead".to_string(), world[o].2.id.0), ("account".to_string(), world[o].0.id.0)])
                .collect()
        };
        assert_eq!(found(scope_of(s, m).await).await, dup_of(&[a, bb]), "[{b}] the manager finds both");
        assert_eq!(found(Scope::admin(admin)).await, dup_of(&[a, bb]), "[{b}] the admin too");
        assert_eq!(found(scope_a.clone()).await, dup_of(&[a, bb]), "[{b}] A: own and shared");
        assert_eq!(found(scope_c.clone()).await, BTreeSet::new(), "[{b}] C finds nothing");
        s.unshare(RecordKind::Lead, b_lead.id.0, a).await.expect(b);
        s.unshare(RecordKind::Account, b_account.id.0, a).await.expect(b);
        assert_eq!(found(scope_a.clone()).await, dup_of(&[a]), "[{b}] A: own only once unshared");
        let except = s.find_duplicates(keys, Some(a_lead.id), &scope_a).await.expect(b);
        assert_eq!(except.len(), 1, "[{b}] A's account, not the lead itself: {except:?}");

        // The process event log: the stage entries of the deals the scope reaches.
        let entries = |scope: Scope| async move {
            let facts = s.deal_facts(fx.process, &scope, None, 1000).await.expect("deal facts");
            let ids: Vec<DealId> = facts.iter().map(|f| f.deal_id).collect();
            let e = s.stage_entries_of(fx.process, &ids).await.expect("stage entries");
            e.iter().map(|e| e.deal_id.0).collect::<BTreeSet<_>>()
        };
        assert_eq!(entries(scope_a.clone()).await, deal_ids(&[a]), "[{b}] A's deals");
        assert_eq!(entries(scope_of(s, v).await).await, deal_ids(&[a, bb]), "[{b}] the viewer's");
        assert_eq!(entries(Scope::admin(admin)).await, deal_ids(&[a, bb]), "[{b}] everything");
        assert_eq!(entries(scope_c.clone()).await, BTreeSet::new(), "[{b}] C's: none");
        let d = &a_deals[0];
        s.move_deal(d.id, &lose(d.version, "预算取消"), &Actor { user: a, role: Role::Rep }, at(20)).await.expect(b);
        let a_ids: Vec<DealId> =
            s.deal_facts(fx.process, &scope_a, None, 1000).await.expect(b).iter().map(|f| f.deal_id).collect();
        let a_entries = s.stage_entries_of(fx.process, &a_ids).await.expect(b);
        assert_eq!(a_entries.len(), 5, "[{b}] four creations and one move");
    }
}

// ---------------------------------------------------------------------------------------------
// API tokens, web sessions, sign-in throttling

#[tokio::test]
async fn stage_totals_sum_each_node_like_deal_totals_within_the_scope() {
    for fx in fixtures().await {
        let (s, b) = (fx.s(), fx.b());
        let ([a, bb, c, m, _v, admin], world) = scoped_world(&fx).await;
        let (a_deals, b_deal) = (&world[&a].3, &world[&bb].3[0]);
        // A loses one of the two CNY 10,001 deals; B's deal moves on to needs analysis
        // (its probability back to the stage's 25 %).
        s.move_deal(a_deals[1].id, &lose(a_deals[1].version, "预算取消"), &Actor { user: a, role: Role::Rep }, at(20))
            .await
            .expect(b);
        let b_actor = Actor { user: bb, role: Role::Rep };
        let d = s.toggle_step(b_deal.id, &tick("check_fit", b_deal.version), &b_actor, at(21)).await.expect(b);
        s.move_deal(b_deal.id, &mv("needs_analysis", d.version), &b_actor, at(22)).await.expect(b);

        let usd = |minor| Money { minor, currency: Currency::USD };
        let totals = |count, amount, weighted_amount| DealTotals { count, amount, weighted_amount };
        let row = |node: &str, totals| StageTotals { node: node.into(), totals };
        let of_process = DealFilter { process: Some(fx.process), ..Default::default() };
        let scope_a = scope_of(s, a).await;
        // Per node, sorted by node id; per currency inside; rounded down once per currency
        // total (10,001 × 50 % = 5,000); deals without an amount count but add nothing; Lost
        // carries probability 0.
        let a_rows = vec![
            row("lead_identification", totals(3, vec![cny(10_001), usd(3_000)], vec![cny(5_000), usd(750)])),
            row("lost", totals(1, vec![cny(10_001)], vec![cny(0)])),
        ];
        assert_eq!(s.stage_totals(&of_process, &scope_a).await.expect(b), a_rows, "[{b}] A's nodes");
        let open = DealFilter { status: Some(DealStatus::Open), ..of_process.clone() };
        assert_eq!(s.stage_totals(&open, &scope_a).await.expect(b), a_rows[..1].to_vec(), "[{b}] A's open deals");
        let manager = s.stage_totals(&of_process, &scope_of(s, m).await).await.expect(b);
        let mut m_rows = a_rows.clone();
        m_rows.push(row("needs_analysis", totals(1, vec![cny(7_000)], vec![cny(1_750)])));
        assert_eq!(manager, m_rows, "[{b}] the manager's: A's and B's");
        assert_eq!(s.stage_totals(&of_process, &scope_of(s, c).await).await.expect(b), vec![], "[{b}] C's: none");
        let other_process = DealFilter { process: Some(ProcessId(fx.process.0 + 1000)), ..Default::default() };
        assert_eq!(s.stage_totals(&other_process, &Scope::admin(admin)).await.expect(b), vec![], "[{b}] no deals");

        // A shared deal counts in its node for the user it is shared with.
        let share = Share {
            record_kind: RecordKind::Deal,
            record_id: b_deal.id.0,
            user_id: c,
            shared_by: bb,
            created_at: at(30),
        };
        s.share(&share).await.expect(b);
        let c_rows = s.stage_totals(&of_process, &scope_of(s, c).await).await.expect(b);
        assert_eq!(c_rows, vec![m_rows[2].clone()], "[{b}] C: the shared deal only");

        // Every row agrees with `deal_totals` narrowed to its node, for every scope, and the
        // nodes are exactly those the list shows — also after an amount, probability and owner
        // change (the running totals are kept by triggers).
        for round in 0..2 {
            if round == 1 {
                let d = s.deal(b_deal.id).await.expect(b);
                let patch = DealPatch {
                    version: d.version,
                    amount: Some(Some(usd(123_456))),
                    probability: Some(Some(35)),
                    owner_id: Some(UserId(a.0)),
                    ..Default::default()
                };
                s.update_deal(d.id, &patch, &Actor { user: admin, role: Role::Admin }, at(40)).await.expect(b);
            }
            for user in [a, bb, c, m, admin] {
                let scope = scope_of(s, user).await;
                let rows = s.stage_totals(&of_process, &scope).await.expect(b);
                let listed: BTreeSet<String> = s
                    .list_deals(&of_process, &scope, all())
                    .await
                    .expect(b)
                    .items
                    .into_iter()
                    .map(|d| d.current_node)
                    .collect();
                assert_eq!(rows.iter().map(|r| r.node.clone()).collect::<BTreeSet<_>>(), listed, "[{b}] user {user}");
                for r in &rows {
                    let narrowed = DealFilter { stage: Some(r.node.clone()), ..of_process.clone() };
                    assert_eq!(
                        r.totals,
                        s.deal_totals(&narrowed, &scope).await.expect(b),
                        "[{b}] user {user}: {}",
                        r.node
                    );
                }
                let sum: u64 = rows.iter().map(|r| r.totals.count).sum();
                assert_eq!(sum, s.deal_totals(&of_process, &scope).await.expect(b).count, "[{b}] user {user}: count");
            }
        }
    }
}

fn new_token(user: UserId, hash: &str, expires_at: Option<DateTime<Utc>>) -> NewApiToken {
    NewApiToken {
        user_id: user,
        token_hash: hash.into(),
        label: format!("label {hash}"),
        scope: TokenScope::Read,
        expires_at,
    }
}

#[tokio::test]
async fn api_tokens_authenticate_expire_and_revoke() {
    for ts in stores().await {
        let (s, b) = (&*ts.store, ts.name.as_str());
        let u = s.user(seed_user(s, Role::Rep).await.user).await.expect(b);
        let other = s.user(seed_user(s, Role::Manager).await.user).await.expect(b);

        let new =
            NewApiToken { scope: TokenScope::ReadWrite, label: "CI".into(), ..new_token(u.id, "hash-live", None) };
        let live = s.create_api_token(&new, at(1)).await.expect(b);
        assert_eq!(
            live,
            ApiToken {
                id: live.id,
                user_id: u.id,
                label: "CI".into(),
                scope: TokenScope::ReadWrite,
                created_at: at(1),
                expires_at: None,
                last_used_at: None,
                revoked_at: None,
            },
            "[{b}] as created"
        );
        assert_eq!(s.api_token(live.id).await.expect(b), live, "[{b}] read back");
        not_found(b, s.api_token(TokenId(9_999)).await);
        invalid(b, s.create_api_token(&new_token(UserId(9_999), "hash-nobody", None), at(1)).await, "user_id");

        // Authenticating marks the token used.
        let (token, user) = s.authenticate_token("hash-live", at(100)).await.expect(b).expect("live token");
        assert_eq!(user, u, "[{b}] its user");
        assert_eq!(token, ApiToken { last_used_at: Some(at(100)), ..live.clone() }, "[{b}] marked used");
        assert_eq!(s.api_token(live.id).await.expect(b).last_used_at, Some(at(100)), "[{b}] stored");
        // A use shortly after may or may not be written, but what is returned is what is stored.
        let (token, _) = s.authenticate_token("hash-live", at(130)).await.expect(b).expect("live token");
        assert!([Some(at(100)), Some(at(130))].contains(&token.last_used_at), "[{b}] {token:?}");
        assert_eq!(s.api_token(live.id).await.expect(b).last_used_at, token.last_used_at, "[{b}]");
        let (token, _) = s.authenticate_token("hash-live", at(400)).await.expect(b).expect("live token");
        assert_eq!(token.last_used_at, Some(at(400)), "[{b}] a later use is recorded");
        assert_eq!(s.authenticate_token("hash-unknown", at(400)).await.expect(b), None, "[{b}] unknown");

        // Expiry: live strictly before `expires_at`.
        let expiring = s.create_api_token(&new_token(u.id, "hash-expiring", Some(at(500))), at(2)).await.expect(b);
        assert_eq!((expiring.scope, expiring.expires_at), (TokenScope::Read, Some(at(500))), "[{b}]");
        let micro = at(499) + chrono::Duration::microseconds(999_999);
        assert!(s.authenticate_token("hash-expiring", micro).await.expect(b).is_some(), "[{b}] just before");
        assert_eq!(s.authenticate_token("hash-expiring", at(500)).await.expect(b), None, "[{b}] at expiry");
        assert_eq!(s.authenticate_token("hash-expiring", at(600)).await.expect(b), None, "[{b}] after");

        // Revoking: once, at the first time.
        let revoked = s.revoke_api_token(live.id, at(700)).await.expect(b);
        assert_eq!(
            revoked,
            ApiToken { revoked_at: Some(at(700)), last_used_at: Some(at(400)), ..live.clone() },
            "[{b}]"
        );
        assert_eq!(s.authenticate_token("hash-live", at(701)).await.expect(b), None, "[{b}] revoked");
        let again = s.revoke_api_token(live.id, at(800)).await.expect(b);
        assert_eq!(again.revoked_at, Some(at(700)), "[{b}] revoking again keeps the first time");
        assert_eq!(s.api_token(live.id).await.expect(b), revoked, "[{b}]");
        not_found(b, s.revoke_api_token(TokenId(9_999), at(800)).await);

        // A deactivated user's tokens stop working, and work again on reactivation.
        let others = s.create_api_token(&new_token(other.id, "hash-other", None), at(3)).await.expect(b);
        assert!(s.authenticate_token("hash-other", at(900)).await.expect(b).is_some(), "[{b}]");
        s.update_user(other.id, &UserPatch { active: Some(false), ..Default::default() }, at(901)).await.expect(b);
        assert_eq!(s.authenticate_token("hash-other", at(902)).await.expect(b), None, "[{b}] user deactivated");
        s.update_user(other.id, &UserPatch { active: Some(true), ..Default::default() }, at(903)).await.expect(b);
        assert!(s.authenticate_token("hash-other", at(904)).await.expect(b).is_some(), "[{b}] reactivated");

        // Lists: newest first, per user or everyone's.
        let list_ids = |tokens: Vec<ApiToken>| tokens.into_iter().map(|t| t.id).collect::<Vec<_>>();
        assert_eq!(list_ids(s.list_api_tokens(Some(u.id)).await.expect(b)), vec![expiring.id, live.id], "[{b}]");
        assert_eq!(list_ids(s.list_api_tokens(Some(other.id)).await.expect(b)), vec![others.id], "[{b}]");
        assert_eq!(
            list_ids(s.list_api_tokens(None).await.expect(b)),
            vec![others.id, expiring.id, live.id],
            "[{b}] everyone's"
        );
        let listed = s.list_api_tokens(Some(u.id)).await.expect(b);
        assert_eq!(listed[1], revoked, "[{b}] listed as stored");
        assert!(s.list_api_tokens(Some(UserId(9_999))).await.expect(b).is_empty(), "[{b}]");
    }
}

#[tokio::test]
async fn web_sessions_are_kept_touched_and_expired() {
    for ts in stores().await {
        let (s, b) = (&*ts.store, ts.name.as_str());
        let u = seed_user(s, Role::Rep).await.user;
        let other = seed_user(s, Role::Rep).await.user;
        let session = |id: &str, user: UserId, last_seen: i64, expires: i64| WebSession {
            id_hash: id.into(),
            user_id: user,
            csrf_token: format!("csrf-{id}"),
            created_at: at(0),
            last_seen_at: at(last_seen),
            expires_at: at(expires),
            address: "203.0.113.9".into(),
            user_agent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0".into(),
        };
        // Microseconds survive.
        let first =
            WebSession { created_at: at(0) + chrono::Duration::microseconds(123_456), ..session("s1", u, 0, 3_600) };
        s.create_session(&first).await.expect(b);
        assert_eq!(s.session("s1").await.expect(b), Some(first.clone()), "[{b}] read back exactly");
        assert_eq!(s.session("nope").await.expect(b), None, "[{b}]");
        assert!(s.create_session(&first).await.is_err(), "[{b}] an id is used once");

        s.touch_session("s1", at(600)).await.expect(b);
        let touched = s.session("s1").await.expect(b).expect("session");
        assert_eq!(touched, WebSession { last_seen_at: at(600), ..first.clone() }, "[{b}] touched");
        // Sessions are returned whatever their age; expiry is the caller's to judge.
        s.create_session(&session("old", u, 0, 10)).await.expect(b);
        assert!(s.session("old").await.expect(b).is_some(), "[{b}] an expired session is still returned");

        s.create_session(&session("s2", u, 0, 3_600)).await.expect(b);
        s.create_session(&session("s3", other, 0, 3_600)).await.expect(b);
        s.delete_sessions_of(u).await.expect(b);
        for gone in ["s1", "s2", "old"] {
            assert_eq!(s.session(gone).await.expect(b), None, "[{b}] {gone} signed out");
        }
        assert!(s.session("s3").await.expect(b).is_some(), "[{b}] other users stay signed in");
        s.delete_session("s3").await.expect(b);
        assert_eq!(s.session("s3").await.expect(b), None, "[{b}] deleted");
        s.delete_session("s3").await.expect(b);

        // Expired: past the absolute end (inclusive) or idle since before the idle limit.
        s.create_session(&session("ended", u, 90, 100)).await.expect(b);
        s.create_session(&session("idle", u, 10, 1_000)).await.expect(b);
        s.create_session(&session("borderline", u, 50, 1_000)).await.expect(b);
        s.create_session(&session("alive", other, 60, 1_000)).await.expect(b);
        assert_eq!(s.delete_expired_sessions(at(100), at(50)).await.expect(b), 2, "[{b}] two expired");
        for (id, kept) in [("ended", false), ("idle", false), ("borderline", true), ("alive", true)] {
            assert_eq!(s.session(id).await.expect(b).is_some(), kept, "[{b}] {id}");
        }
        assert_eq!(s.delete_expired_sessions(at(100), at(50)).await.expect(b), 0, "[{b}] nothing left to expire");
    }
}

#[tokio::test]
async fn failed_sign_ins_are_counted_by_email_and_address() {
    for ts in stores().await {
        let (s, b) = (&*ts.store, ts.name.as_str());
        let (ann, bob) = ("ann@example.com", "bob@example.com");
        let (home, cafe) = ("198.51.100.7", "2001:db8::1");
        for (email, address, t) in [(ann, home, 0), (ann, cafe, 10), (bob, home, 20), (ann, home, 30)] {
            s.record_login_failure(email, address, at(t)).await.expect(b);
        }
        assert_eq!(s.login_failures(ann, home, at(0)).await.expect(b), (3, 3), "[{b}] everything");
        assert_eq!(s.login_failures(ann, home, at(10)).await.expect(b), (2, 2), "[{b}] `since` is inclusive");
        assert_eq!(s.login_failures(ann, cafe, at(11)).await.expect(b), (1, 0), "[{b}]");
        assert_eq!(s.login_failures(bob, cafe, at(0)).await.expect(b), (1, 1), "[{b}]");
        assert_eq!(s.login_failures(ann, home, at(31)).await.expect(b), (0, 0), "[{b}] nothing since");
        assert_eq!(s.login_failures("carol@example.com", "192.0.2.1", at(0)).await.expect(b), (0, 0), "[{b}]");

        s.clear_login_failures(ann).await.expect(b);
        assert_eq!(s.login_failures(ann, home, at(0)).await.expect(b), (0, 1), "[{b}] ann's forgotten, bob's kept");
        assert_eq!(s.login_failures(bob, home, at(0)).await.expect(b), (1, 1), "[{b}]");

        // Old failures are pruned; those inside the window stay.
        s.record_login_failure(ann, cafe, at(40)).await.expect(b);
        assert_eq!(s.prune_login_failures(at(21)).await.expect(b), 1, "[{b}] bob's at 20 goes");
        assert_eq!(s.login_failures(bob, home, at(0)).await.expect(b), (0, 0), "[{b}]");
        assert_eq!(s.login_failures(ann, cafe, at(0)).await.expect(b), (1, 1), "[{b}] the recent one stays");
        assert_eq!(s.prune_login_failures(at(21)).await.expect(b), 0, "[{b}] nothing more");
    }
}

// ---------------------------------------------------------------------------------------------
// The audit log

#[tokio::test]
async fn the_audit_log_is_filtered_paged_and_append_only() {
    use sqlx::Connection;
    for ts in stores().await {
        let (s, b) = (&*ts.store, ts.name.as_str());
        let alice = seed_user(s, Role::Admin).await.user;
        let bob = seed_user(s, Role::Rep).await.user;
        let entry = |t: i64, actor: Option<UserId>, action: AuditAction, kind: &str, id: Option<i64>| NewAuditEntry {
            at: at(t),
            actor_id: actor,
            action,
            subject_kind: kind.into(),
            subject_id: id,
            address: "203.0.113.9".into(),
            detail: format!("{} {kind}", action.as_str()),
            old_value: None,
            new_value: None,
        };
        let entries = vec![
            entry(0, None, AuditAction::LoginFailed, "session", None),
            entry(1, Some(alice), AuditAction::Login, "session", None),
            NewAuditEntry {
                old_value: Some(json!({"amount": {"minor": 100, "currency": "CNY"}, "title": "旧"})),
                new_value: Some(json!({"amount": null, "title": "新", "contact_ids": [1, 2]})),
                ..entry(2, Some(alice), AuditAction::Update, "deal", Some(7))
            },
            entry(3, Some(bob), AuditAction::Create, "deal", Some(8)),
            entry(4, Some(bob), AuditAction::Update, "deal", Some(7)),
            entry(5, Some(alice), AuditAction::PermissionChanged, "user", Some(bob.0)),
            entry(5, Some(bob), AuditAction::Denied, "account", Some(3)),
        ];
        for e in &entries {
            s.append_audit(e).await.expect(b);
        }

        let page = s.list_audit(&AuditFilter::default(), all()).await.expect(b);
        assert_eq!(page.next_cursor, None, "[{b}]");
        let got: Vec<NewAuditEntry> = page
            .items
            .iter()
            .map(|e| NewAuditEntry {
                at: e.at,
                actor_id: e.actor_id,
                action: e.action,
                subject_kind: e.subject_kind.clone(),
                subject_id: e.subject_id,
                address: e.address.clone(),
                detail: e.detail.clone(),
                old_value: e.old_value.clone(),
                new_value: e.new_value.clone(),
            })
            .collect();
        let newest_first: Vec<NewAuditEntry> = entries.iter().rev().cloned().collect();
        assert_eq!(got, newest_first, "[{b}] everything, newest first, as appended");
        let all_ids: Vec<i64> = page.items.iter().map(|e| e.id).collect();
        assert!(all_ids.windows(2).all(|w| w[0] > w[1]), "[{b}] ids descend: {all_ids:?}");

        // Each filter, by the (time) positions of the entries it keeps.
        // Position in `entries` by id: the oldest is 0.
        let position: BTreeMap<i64, usize> = all_ids.iter().rev().enumerate().map(|(i, id)| (*id, i)).collect();
        let position = &position;
        let positions = |filter: AuditFilter| async move {
            let page = s.list_audit(&filter, all()).await.expect("audit");
            page.items.iter().map(|e| position[&e.id]).collect::<Vec<_>>()
        };
        let f = AuditFilter::default;
        assert_eq!(positions(AuditFilter { actor: Some(bob), ..f() }).await, vec![6, 4, 3], "[{b}] actor");
        assert_eq!(
            positions(AuditFilter { action: Some(AuditAction::Update), ..f() }).await,
            vec![4, 2],
            "[{b}] action"
        );
        assert_eq!(
            positions(AuditFilter { subject_kind: Some("deal".into()), ..f() }).await,
            vec![4, 3, 2],
            "[{b}] subject kind"
        );
        assert_eq!(
            positions(AuditFilter { subject_kind: Some("deal".into()), subject_id: Some(7), ..f() }).await,
            vec![4, 2],
            "[{b}] subject"
        );
        assert_eq!(positions(AuditFilter { from: Some(at(4)), ..f() }).await, vec![6, 5, 4], "[{b}] from, inclusive");
        assert_eq!(positions(AuditFilter { to: Some(at(2)), ..f() }).await, vec![1, 0], "[{b}] to, exclusive");
        assert_eq!(
            positions(AuditFilter { from: Some(at(2)), to: Some(at(5)), actor: Some(alice), ..f() }).await,
            vec![2],
            "[{b}] combined"
        );
        assert!(positions(AuditFilter { action: Some(AuditAction::Logout), ..f() }).await.is_empty(), "[{b}] none");

        // Pages of two, newest first, each entry once.
        let expected: BTreeSet<i64> = all_ids.iter().copied().collect();
        let no_filter = AuditFilter::default();
        let (seen, pages) = walk_pages(2, |p| s.list_audit(&no_filter, p), |e: &AuditEntry| e.id).await;
        assert_eq!(pages, 4, "[{b}] 7 entries in pages of 2");
        assert_newest_first_no_duplicates(b, &seen, &expected);
        let filtered = AuditFilter { actor: Some(alice), ..f() };
        let (seen, _) = walk_pages(1, |p| s.list_audit(&filtered, p), |e: &AuditEntry| e.id).await;
        assert_eq!(seen.len(), 3, "[{b}] filtered pages");

        // Append-only, whoever asks.
        let statements = ["UPDATE audit_log SET detail = 'x'", "DELETE FROM audit_log"];
        let mut results: Vec<(String, std::result::Result<u64, String>)> = Vec::new();
        match b {
            "sqlite" => {
                let mut conn = sqlx::SqliteConnection::connect(&ts.url).await.expect(b);
                for sql in statements {
                    let r =
                        sqlx::query(sql).execute(&mut conn).await.map(|r| r.rows_affected()).map_err(|e| e.to_string());
                    results.push((sql.to_string(), r));
                }
                conn.close().await.ok();
            }
            "postgres" => {
                let mut conn = sqlx::PgConnection::connect(&ts.url).await.expect(b);
                for sql in statements {
                    let r =
                        sqlx::query(sql).execute(&mut conn).await.map(|r| r.rows_affected()).map_err(|e| e.to_string());
                    results.push((sql.to_string(), r));
                }
                conn.close().await.ok();
            }
            other => panic!("unknown backend {other}"),
        }
        for (sql, r) in &results {
            match r {
                Err(e) => assert!(e.contains("append-only"), "[{b}] `{sql}` refused for the right reason: {e}"),
                Ok(n) => panic!("[{b}] `{sql}` must fail, but changed {n} rows"),
            }
        }
        assert_eq!(s.list_audit(&AuditFilter::default(), all()).await.expect(b).items, page.items, "[{b}] intact");
        // And the store still appends.
        s.append_audit(&entry(6, None, AuditAction::Logout, "session", None)).await.expect(b);
        assert_eq!(s.list_audit(&AuditFilter::default(), all()).await.expect(b).items.len(), 8, "[{b}]");
    }
}

// ---------------------------------------------------------------------------------------------
// Version retirement and migration of open deals

/// The seed process with its entry stage under a new id (same name) that also asks for a needs
/// summary before the deal leaves it.
fn seed_v2() -> salesflow_domain::process::ProcessDefinition {
    use salesflow_domain::process::{ExitCriterion, Requirement};
    let mut def = salesflow_domain::templates::get("seed-five-stage.zh-CN").unwrap();
    for n in &mut def.nodes {
        if n.id == "lead_identification" {
            n.id = "prospecting".into();
            if let NodeKind::Stage(stage) = &mut n.kind {
                stage.probability = 15;
                stage.exit_criteria.push(ExitCriterion {
                    id: "c_needs_early".into(),
                    requires: Requirement::Field(DealField::NeedsSummary),
                    gate: Gate::Hard,
                    label: "需求摘要".into(),
                });
            }
        }
    }
    for e in &mut def.edges {
        for end in [&mut e.from, &mut e.to] {
            if end == "lead_identification" {
                *end = "prospecting".into();
            }
        }
    }
    def
}

#[tokio::test]
async fn retired_versions_take_no_new_deals_and_stay_immutable() {
    use sqlx::Connection;
    for fx in fixtures().await {
        let (s, b, id) = (fx.s(), fx.b(), fx.process);
        let (_, _, on_v1) = deal_with_contact(&fx, "留在第一版", at(0)).await;
        let v2 = s.new_draft(id, &seed_v2(), at(1)).await.expect(b);
        conflict(b, s.retire(id, v2.version, at(2)).await);
        s.publish(id, 2, at(2)).await.expect(b);
        assert_eq!(s.latest_published(id).await.expect(b).version, 2, "[{b}]");

        let retired = s.retire(id, 2, at(3)).await.expect(b);
        assert_eq!((retired.status, retired.retired_at), (VersionStatus::Retired, Some(at(3))), "[{b}]");
        assert_eq!(retired.definition, seed_v2(), "[{b}] definition kept");
        assert_eq!(s.process_version(id, 2).await.expect(b).status, VersionStatus::Retired, "[{b}] cache follows");
        assert_eq!(s.latest_published(id).await.expect(b).version, 1, "[{b}] new deals enter v1 again");
        assert_eq!(s.list_processes().await.expect(b)[0].published_version, Some(1), "[{b}]");
        conflict(b, s.retire(id, 2, at(4)).await);
        conflict(b, s.publish(id, 2, at(4)).await);
        conflict(b, s.save_draft(id, 2, &seed_v2(), at(4)).await);
        not_found(b, s.retire(id, 9, at(4)).await);
        let (_, _, fresh) = deal_with_contact(&fx, "新商机", at(5)).await;
        assert_eq!(fresh.process_version, 1, "[{b}]");
        assert_eq!(s.deal(on_v1.id).await.expect(b).process_version, 1, "[{b}] open deals stay");

        // Retiring is the one change a published version accepts, once; SQL cannot undo it.
        let undo = "UPDATE process_versions SET retired_at = NULL WHERE retired_at IS NOT NULL";
        let rewrite = "UPDATE process_versions SET definition = '{}' WHERE retired_at IS NOT NULL";
        for sql in [undo, rewrite] {
            let r = match b {
                "sqlite" => {
                    let mut conn = sqlx::SqliteConnection::connect(&fx.ts.url).await.expect(b);
                    sqlx::query(sql).execute(&mut conn).await.map(|r| r.rows_affected())
                }
                _ => {
                    let mut conn = sqlx::PgConnection::connect(&fx.ts.url).await.expect(b);
                    sqlx::query(sql).execute(&mut conn).await.map(|r| r.rows_affected())
                }
            };
            let e = r.expect_err(&format!("[{b}] `{sql}` must fail"));
            assert!(e.to_string().contains("immutable"), "[{b}] {e}");
        }
    }
}

#[tokio::test]
async fn migrating_open_deals_previews_then_moves_each_with_one_event() {
    use salesflow_domain::migration::MigrationRequest;
    for fx in fixtures().await {
        let (s, b, a, id) = (fx.s(), fx.b(), &fx.actor, fx.process);
        let (_, _, ready) = deal_with_contact(&fx, "已确认匹配", at(0)).await;
        let ready = s.toggle_step(ready.id, &tick("check_fit", 1), a, at(1)).await.expect(b);
        let (_, _, early) = deal_with_contact(&fx, "刚开始", at(1)).await;
        let (_, _, lost) = deal_with_contact(&fx, "已输", at(1)).await;
        s.move_deal(lost.id, &lose(1, "预算"), a, at(2)).await.expect(b);
        s.new_draft(id, &seed_v2(), at(3)).await.expect(b);

        // A draft cannot receive deals.
        let req = |mapping: &[(&str, &str)]| MigrationRequest {
            from_version: 1,
            to_version: 2,
            mapping: mapping.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        invalid(b, s.migrate_deals(id, &req(&[]), a, at(4)).await, "to_version");
        s.publish(id, 2, at(4)).await.expect(b);

        // Every stage must be named; each bad entry is reported.
        let errs = invalid(
            b,
            s.migrate_deals(id, &req(&[("lead_identification", "won")]), a, at(5)).await,
            "mapping.needs_analysis",
        );
        assert!(errs.iter().any(|e| e.field == "mapping.lead_identification"), "[{b}] {errs:?}");
        let events_before = s.deal_events(ready.id).await.expect(b).len();
        assert_eq!(s.deal(ready.id).await.expect(b).version, ready.version, "[{b}] nothing written");

        let v1 = s.process_version(id, 1).await.expect(b);
        let v2 = s.process_version(id, 2).await.expect(b);
        let mapping = salesflow_domain::migration::suggest(&v1.definition, &v2.definition);
        assert_eq!(mapping["lead_identification"], "prospecting", "[{b}] suggested by name");
        assert_eq!(mapping["negotiation"], "negotiation", "[{b}] suggested by id");
        let open = s.open_deals_on(id, 1).await.expect(b);
        assert_eq!(open.iter().map(|d| d.id).collect::<Vec<_>>(), vec![ready.id, early.id], "[{b}] open deals only");
        assert_eq!(open[0].completed_steps, vec!["check_fit".to_string()], "[{b}]");
        assert_eq!(open[0].contact_ids.len(), 1, "[{b}]");

        let full = MigrationRequest { from_version: 1, to_version: 2, mapping: mapping.clone() };
        let summary = s.migrate_deals(id, &full, a, at(6)).await.expect(b);
        assert!(summary.applied, "[{b}]");
        assert_eq!(summary.deals, 2, "[{b}]");
        let landed: Vec<_> =
            summary.landing.iter().filter(|l| l.deals > 0).map(|l| (l.node.as_str(), l.deals)).collect();
        assert_eq!(landed, [("prospecting", 2)], "[{b}]");
        let failing: Vec<_> = summary
            .failing
            .iter()
            .map(|f| (f.deal_id, f.newly, f.missing.iter().map(|m| m.id.as_str()).collect::<Vec<_>>()))
            .collect();
        assert_eq!(
            failing,
            [(ready.id, true, vec!["c_needs_early"]), (early.id, false, vec!["c_fit", "c_needs_early"])],
            "[{b}] the new criterion, and what was missing before"
        );

        for (d, steps) in [(ready.id, vec!["check_fit".to_string()]), (early.id, vec![])] {
            let now = s.deal(d).await.expect(b);
            assert_eq!((now.process_version, now.current_node.as_str()), (2, "prospecting"), "[{b}]");
            assert_eq!(now.probability, 15, "[{b}] the new stage's probability");
            assert_eq!(now.completed_steps, steps, "[{b}] ticked steps carried over");
            let events = s.deal_events(d).await.expect(b);
            let last = events.last().unwrap();
            assert_eq!(
                (last.kind, last.process_version, last.from_node.as_str(), last.to_node.as_str()),
                (EventKind::Migrated, 2, "lead_identification", "prospecting"),
                "[{b}]"
            );
            assert_eq!(last.details["from_version"], json!(1), "[{b}]");
            assert_seq_contiguous(b, &events);
            // In the event log and analytics the deal entered the new stage when it was migrated.
            let entries = s.stage_entries_of(id, &[d]).await.expect(b);
            let entered = entries.last().map(|e| (e.process_version, e.node.as_str()));
            assert_eq!(entered, Some((2, "prospecting")), "[{b}] {entries:?}");
        }
        assert_eq!(s.deal_events(ready.id).await.expect(b).len(), events_before + 1, "[{b}] one event per deal");
        let lost_now = s.deal(lost.id).await.expect(b);
        assert_eq!((lost_now.process_version, lost_now.current_node.as_str()), (1, "lost"), "[{b}] closed deals stay");
        assert!(s.open_deals_on(id, 1).await.expect(b).is_empty(), "[{b}]");

        // The board's running totals follow, and the deal moves on along version 2's edges.
        let totals = s
            .stage_totals(&DealFilter { process: Some(id), ..DealFilter::default() }, &Scope::admin(a.user))
            .await
            .expect(b);
        let at_prospecting: i64 =
            totals.iter().filter(|t| t.node == "prospecting").map(|t| t.totals.count as i64).sum();
        assert_eq!(at_prospecting, 2, "[{b}] {totals:?}");
        let ready_now = s.deal(ready.id).await.expect(b);
        gate_blocked(b, s.move_deal(ready.id, &mv("needs_analysis", ready_now.version), a, at(7)).await);
        let patch =
            DealPatch {
                needs_summary: Some("预算已确认".into()), version: ready_now.version, ..DealPatch::default()
            };
        let patched = s.update_deal(ready.id, &patch, a, at(7)).await.expect(b);
        s.move_deal(ready.id, &mv("needs_analysis", patched.version), a, at(8)).await.expect(b);

        // Moving the deals back needs a version that has them: none are open on version 1 now.
        let back = MigrationRequest {
            from_version: 2,
            to_version: 1,
            mapping: salesflow_domain::migration::suggest(&v2.definition, &v1.definition),
        };
        let summary = s.migrate_deals(id, &back, a, at(9)).await.expect(b);
        assert_eq!(summary.deals, 2, "[{b}] both open deals on v2 go back");
    }
}

// ---------------------------------------------------------------------------------------------
// Selling: needs, catalog, quote versions, contracts

mod selling {
    use salesflow_domain::selling::catalog::{NewProduct, Tier};
    use salesflow_domain::selling::contract::{Contract, ContractPatch, ContractStatus, NewContract};
    use salesflow_domain::selling::needs::NeedsInput;
    use salesflow_domain::selling::pricing::QuoteLine;
    use salesflow_domain::selling::quote::{Quote, QuoteContent, QuoteOption, QuoteStatus};
    use salesflow_domain::store::{QuoteChange, QuoteWrite};

    use super::*;

    fn product(sku: &str, tier: Tier, price: i64) -> NewProduct {
        NewProduct {
            sku: sku.into(),
            name_zh: tier.name(true).into(),
            name_en: tier.name(false).into(),
            description_zh: "销售管理系统".into(),
            description_en: "Sales management".into(),
            unit: "套".into(),
            list_price: cny(price),
            tax_rate_bp: 600,
            category: "CRM".into(),
            tags: vec!["客户管理".into()],
            tier: Some(tier),
            bundle: vec![],
            facts: vec![],
        }
    }

    fn content(valid_until: NaiveDate) -> QuoteContent {
        let option = |key: &str, tier: Tier, price: i64| QuoteOption {
            key: key.into(),
            name: tier.name(true).into(),
            tier: Some(tier),
            lines: vec![QuoteLine {
                product_id: None,
                sku: key.into(),
                name: tier.name(true).into(),
                unit: "套".into(),
                quantity: 2,
                unit_price: cny(price),
                discount_bp: 500,
                tax_rate_bp: 600,
            }],
            discount_bp: 0,
        };
        QuoteContent {
            currency: Currency::CNY,
            options: vec![option("basic", Tier::Basic, 1_000_000), option("standard", Tier::Standard, 2_500_000)],
            recommended: None,
            payment_terms: "预付 50%".into(),
            after_sales_terms: "一年维护".into(),
            valid_until,
            language: "zh-CN".into(),
            notes: String::new(),
        }
    }

    fn write(
        deal: DealId,
        changes: Vec<QuoteChange>,
        notes: Vec<salesflow_domain::selling::quote::DealNote>,
    ) -> QuoteWrite {
        QuoteWrite { deal, changes, notes, tick_step: None }
    }

    #[tokio::test]
    async fn selling_needs_and_catalog() {
        for fx in fixtures().await {
            let (s, b) = (fx.s(), fx.b());
            let now: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().unwrap();
            let (_, _, deal) = deal_with_contact(&fx, "需求", now).await;
            assert_eq!(s.needs(deal.id).await.expect(b), None, "[{b}] none yet");
            let input = NeedsInput {
                pain_points: vec!["报表靠手工".into()],
                requirements: vec!["报表".into()],
                budget: Some(cny(10_000_000)),
                purchase_intent: Some(4),
                ..Default::default()
            };
            let n = s.save_needs(deal.id, &input, &fx.actor, now).await.expect(b);
            assert_eq!((n.version, n.input.budget), (1, Some(cny(10_000_000))), "[{b}]");
            conflict(b, s.save_needs(deal.id, &input, &fx.actor, now).await);
            let bad = NeedsInput { purchase_intent: Some(9), version: Some(1), ..input.clone() };
            invalid(b, s.save_needs(deal.id, &bad, &fx.actor, now).await, "purchase_intent");
            let again = NeedsInput { version: Some(1), decision_maker: "王总".into(), ..input.clone() };
            let n2 = s.save_needs(deal.id, &again, &fx.actor, now).await.expect(b);
            assert_eq!((n2.version, n2.input.decision_maker.as_str()), (2, "王总"), "[{b}]");
            assert_eq!(s.needs(deal.id).await.expect(b), Some(n2), "[{b}] reads back");
            let events = s.deal_events(deal.id).await.expect(b);
            assert_eq!(kinds(&events), [EventKind::Created, EventKind::NeedsUpdated, EventKind::NeedsUpdated], "[{b}]");
            assert_seq_contiguous(b, &events);

            let std = s.create_product(&product("CRM-STD", Tier::Standard, 8_000_000), now).await.expect(b);
            s.create_product(&product("CRM-BAS", Tier::Basic, 3_000_000), now).await.expect(b);
            conflict(b, s.create_product(&product("CRM-STD", Tier::Basic, 1), now).await);
            invalid(b, s.create_product(&product("CRM PRO", Tier::Professional, -1), now).await, "list_price.minor");
            let all = s.list_products().await.expect(b);
            assert_eq!(all.iter().map(|p| p.spec.sku.as_str()).collect::<Vec<_>>(), ["CRM-BAS", "CRM-STD"], "[{b}]");
            assert_eq!(all[1], std, "[{b}] reads back as created");
        }
    }

    #[tokio::test]
    async fn selling_price_books_are_kept_by_version() {
        use salesflow_domain::selling::catalog::{PriceBook, PriceBookEntry};
        for fx in fixtures().await {
            let (s, b) = (fx.s(), fx.b());
            let book = PriceBook {
                name: "经销商价".into(),
                currency: Currency::CNY,
                customer_group: "经销商".into(),
                prices: vec![PriceBookEntry { sku: "CRM-STD".into(), unit_price_minor: 7_000_000 }],
                version: None,
            };
            let saved = s.save_price_book(&book).await.expect(b);
            assert_eq!(saved.version, Some(1), "[{b}]");
            assert!(matches!(s.save_price_book(&book).await, Err(Error::Conflict(_))), "[{b}] the name is taken");
            let mut next = saved.clone();
            next.prices[0].unit_price_minor = 6_500_000;
            let replaced = s.save_price_book(&next).await.expect(b);
            assert_eq!(replaced.version, Some(2), "[{b}]");
            assert!(matches!(s.save_price_book(&next).await, Err(Error::Conflict(_))), "[{b}] stale version");
            let books = s.price_books().await.expect(b);
            assert_eq!(books, vec![replaced], "[{b}] one book, the last write");
            let std = product("CRM-STD", Tier::Standard, 8_000_000);
            assert_eq!(books[0].price(&std), Some(cny(6_500_000)), "[{b}] the book's price");
        }
    }

    #[tokio::test]
    async fn selling_exit_criteria_can_ask_for_parts_of_the_needs_analysis() {
        use salesflow_domain::process::{ExitCriterion, Gate, NodeKind, Requirement};
        use salesflow_domain::selling::needs::NeedsPart;
        for fx in fixtures().await {
            let (s, b) = (fx.s(), fx.b());
            let now: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().unwrap();
            // The seed process with "budget known" added to its first stage.
            let mut def = salesflow_domain::templates::get("seed-five-stage.zh-CN").unwrap();
            def.key = "budget-first".into();
            let first = def.nodes.iter_mut().find(|n| n.id == "lead_identification").unwrap();
            let NodeKind::Stage(stage) = &mut first.kind else { panic!("a stage") };
            stage.exit_criteria.push(ExitCriterion {
                id: "c_budget".into(),
                requires: Requirement::Needs(NeedsPart::Budget),
                gate: Gate::Hard,
                label: "预算已知".into(),
            });
            let v = s.create_process(&def, now).await.expect(b);
            s.publish(v.process_id, v.version, now).await.expect(b);
            let account = s.create_account(&new_account("预算公司"), fx.actor.user, now).await.expect(b);
            let contact = s
                .create_contact(&new_contact(Some(account.id), "李总", None, None), fx.actor.user, now)
                .await
                .expect(b);
            let mut new = new_deal("预算先行", account.id, vec![contact.id], v.process_id);
            new.owner_id = Some(fx.actor.user);
            let deal = s.create_deal(&new, &fx.actor, now).await.expect(b);
            let deal = s.toggle_step(deal.id, &tick("check_fit", deal.version), &fx.actor, now).await.expect(b);
            let report =
                gate_blocked(b, s.move_deal(deal.id, &mv("needs_analysis", deal.version), &fx.actor, now).await);
            let missing: Vec<_> = report.missing.iter().map(|m| m.id.as_str()).collect();
            assert_eq!(missing, ["c_budget"], "[{b}] only the budget is missing");
            let needs = NeedsInput { requirements: vec!["报表".into()], ..Default::default() };
            s.save_needs(deal.id, &needs, &fx.actor, now).await.expect(b);
            let deal = s.deal(deal.id).await.expect(b);
            assert_eq!(deal.needs_known, [NeedsPart::Requirements], "[{b}] the deal knows what is known");
            gate_blocked(b, s.move_deal(deal.id, &mv("needs_analysis", deal.version), &fx.actor, now).await);
            let needs = NeedsInput { version: Some(1), budget: Some(cny(5_000_000)), ..needs };
            s.save_needs(deal.id, &needs, &fx.actor, now).await.expect(b);
            let deal = s.deal(deal.id).await.expect(b);
            let (moved, _) = s.move_deal(deal.id, &mv("needs_analysis", deal.version), &fx.actor, now).await.expect(b);
            assert_eq!(moved.current_node, "needs_analysis", "[{b}] budget known: the gate opens");
        }
    }

    #[tokio::test]
    async fn sending_ticks_the_step_in_the_same_transaction() {
        for fx in fixtures().await {
            let (s, b) = (fx.s(), fx.b());
            let now: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().unwrap();
            let (_, _, deal) = deal_with_contact(&fx, "发送即勾选", now).await;
            let (draft, note) = Quote::draft(deal.id, 1, content(date(2026, 3, 31)), fx.actor.user, now).unwrap();
            let new = QuoteChange { quote: draft, read_version: None, token_hash: None };
            let v1 = s.save_quotes(&write(deal.id, vec![new], vec![note]), &fx.actor, now).await.expect(b).remove(0);
            let mut sent = v1.clone();
            let note = sent.send(v1.version, 1_000, fx.actor.user, now.date_naive(), now).unwrap();
            let change = QuoteChange { quote: sent, read_version: Some(v1.version), token_hash: Some("t1".into()) };

            // A step the stage does not have: the whole write is refused, the quote stays a draft.
            let mut bad = write(deal.id, vec![change.clone()], vec![note.clone()]);
            bad.tick_step = Some("no_such_step".into());
            assert!(s.save_quotes(&bad, &fx.actor, now).await.is_err(), "[{b}]");
            assert_eq!(s.quotes(deal.id).await.expect(b), vec![v1.clone()], "[{b}] nothing sent");
            assert!(s.deal(deal.id).await.expect(b).completed_steps.is_empty(), "[{b}]");

            let mut good = write(deal.id, vec![change], vec![note]);
            good.tick_step = Some("define_target".into());
            s.save_quotes(&good, &fx.actor, now).await.expect(b);
            let after = s.deal(deal.id).await.expect(b);
            assert_eq!(after.completed_steps, vec!["define_target"], "[{b}] ticked with the sending");
            assert_eq!(after.version, deal.version + 1, "[{b}]");
            let events = s.deal_events(deal.id).await.expect(b);
            assert_eq!(
                kinds(&events),
                [EventKind::Created, EventKind::QuoteCreated, EventKind::QuoteSent, EventKind::StepCompleted],
                "[{b}]"
            );
            assert_seq_contiguous(b, &events);
        }
    }

    #[tokio::test]
    async fn selling_quote_versions_are_frozen_once_sent() {
        for fx in fixtures().await {
            let (s, b) = (fx.s(), fx.b());
            let now: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().unwrap();
            let today = now.date_naive();
            let (_, _, deal) = deal_with_contact(&fx, "报价", now).await;
            let (draft, note) = Quote::draft(deal.id, 1, content(date(2026, 3, 31)), fx.actor.user, now).unwrap();
            let new = QuoteChange { quote: draft, read_version: None, token_hash: None };
            let v1 = s.save_quotes(&write(deal.id, vec![new], vec![note]), &fx.actor, now).await.expect(b).remove(0);
            assert!(v1.id.0 > 0, "[{b}] id assigned");
            assert_eq!(s.quotes(deal.id).await.expect(b), vec![v1.clone()], "[{b}] reads back");

            // The same number twice: refused by the database, nothing written.
            let (dup, _) = Quote::draft(deal.id, 1, content(date(2026, 3, 31)), fx.actor.user, now).unwrap();
            let dup = QuoteChange { quote: dup, read_version: None, token_hash: None };
            conflict(b, s.save_quotes(&write(deal.id, vec![dup], vec![]), &fx.actor, now).await);

            let mut sent = v1.clone();
            let note = sent.send(v1.version, 1_000, fx.actor.user, today, now).unwrap();
            let change =
                QuoteChange { quote: sent.clone(), read_version: Some(v1.version), token_hash: Some("h1".into()) };
            s.save_quotes(&write(deal.id, vec![change.clone()], vec![note]), &fx.actor, now).await.expect(b);
            // Writing at a stale version: conflict.
            conflict(b, s.save_quotes(&write(deal.id, vec![change], vec![]), &fx.actor, now).await);
            let found = s.quote_by_token("h1").await.expect(b).expect("by token");
            assert_eq!((found.status, found.id), (QuoteStatus::Sent, v1.id), "[{b}]");
            assert_eq!(s.quote_by_token("nope").await.expect(b), None, "[{b}]");

            // Changing the content of a sent version is refused by the database itself.
            let mut tampered = found.clone();
            tampered.content.options[0].lines[0].unit_price = cny(1);
            tampered.version += 1;
            let change = QuoteChange { quote: tampered, read_version: Some(found.version), token_hash: None };
            assert!(s.save_quotes(&write(deal.id, vec![change], vec![]), &fx.actor, now).await.is_err(), "[{b}]");
            assert_eq!(s.quote_by_token("h1").await.expect(b), Some(found.clone()), "[{b}] unchanged");

            // Accepted: its status is final.
            let mut accepted = found.clone();
            let note = accepted.accept("standard", today, now).unwrap();
            let change = QuoteChange { quote: accepted.clone(), read_version: Some(found.version), token_hash: None };
            s.save_quotes(&write(deal.id, vec![change], vec![note]), &fx.actor, now).await.expect(b);
            let mut back = accepted.clone();
            back.status = QuoteStatus::Sent;
            back.version += 1;
            let change = QuoteChange { quote: back, read_version: Some(accepted.version), token_hash: None };
            assert!(s.save_quotes(&write(deal.id, vec![change], vec![]), &fx.actor, now).await.is_err(), "[{b}]");

            let events = s.deal_events(deal.id).await.expect(b);
            assert_eq!(
                kinds(&events),
                [EventKind::Created, EventKind::QuoteCreated, EventKind::QuoteSent, EventKind::QuoteAccepted],
                "[{b}] every step in the deal's log, nothing from the refused writes"
            );
            assert_seq_contiguous(b, &events);
            assert_eq!(events[3].details["option"], "standard", "[{b}]");
            let after = s.deal(deal.id).await.expect(b);
            assert_eq!(after.version, deal.version, "[{b}] quote events leave the deal's fields and version alone");
            // The deal's own writes carry on after them, numbered after the quote events.
            let moved = s.toggle_step(deal.id, &tick("define_target", after.version), &fx.actor, now).await.expect(b);
            assert_eq!(moved.version, deal.version + 1, "[{b}]");
            assert_seq_contiguous(b, &s.deal_events(deal.id).await.expect(b));

            // A contract from it, once.
            let new = NewContract {
                quote_number: 1,
                seller: "星云软件".into(),
                buyer: "报价 公司".into(),
                start_date: None,
                end_date: None,
                milestones: vec![],
            };
            let (c, note) = Contract::from_quote(&accepted, &new, fx.actor.user, now).unwrap();
            let saved = s.save_contract(&c, None, &[note], &fx.actor, now).await.expect(b);
            assert!(saved.id.0 > 0, "[{b}]");
            assert_eq!(saved.totals, accepted.option("standard").unwrap().1.clone(), "[{b}] amounts carried over");
            conflict(b, s.save_contract(&c, None, &[], &fx.actor, now).await);
            let mut next = saved.clone();
            let patch =
                ContractPatch { version: saved.version, status: Some(ContractStatus::Sent), ..Default::default() };
            let notes = next.apply(&patch, now).unwrap();
            let updated = s.save_contract(&next, Some(saved.version), &notes, &fx.actor, now).await.expect(b);
            assert_eq!((updated.status, updated.version), (ContractStatus::Sent, 2), "[{b}]");
            conflict(b, s.save_contract(&next, Some(saved.version), &[], &fx.actor, now).await);
            assert_eq!(s.contracts(deal.id).await.expect(b), vec![updated], "[{b}] reads back");
        }
    }
}
