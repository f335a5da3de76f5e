//! The engine with conditions, expiring tuples and contextual tuples
//! (docs/language.md, "Conditions, expiring tuples and contextual tuples"),
//! case by case on every embedded store; the property tests against the
//! naive evaluator are in engine_diff_conditions.rs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::json;
use zanzi::engine::{Decision, Engine, EngineError, Outcome, RequestContext, Step};
use zanzi::ir::Schema;
use zanzi::store::{MemoryStore, SqliteStore, TupleStore};
use zanzi::tuple::{Context, Expiry, Tuple};

const SCHEMA: &str = r#"
namespace user {}

/// Requests from inside a network the tuple names.
condition office_network(client_ip: ipaddress, cidr: string) {
  client_ip.in_cidr(cidr)
}

condition flag(on: bool) { on }
condition other_flag(also: bool) { also }
condition third_flag(third: bool) { third }

namespace group {
  relation member: user | user with flag | group#member | group#member with flag
    | group#member with other_flag | user with third_flag
}

namespace folder {
  relation viewer: user | user with other_flag
}

namespace document {
  relation parent: folder | folder with flag
  relation owner: user | user with expiration
  relation viewer: user | user with office_network | group#member with flag | user:* with flag
  relation blocked: user | user with other_flag
  relation cleared: user with third_flag
  permission view = viewer | parent->viewer
  permission view_unblocked = viewer - blocked
  permission view_cleared = viewer & cleared
  permission view_every_parent = parent.all(viewer)
}
"#;

fn schema() -> Schema {
    let (_, compiled) = zanzi::compile_source("conditions.zanzi", SCHEMA);
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    compiled.schema.unwrap()
}

fn plain(text: &str) -> Tuple {
    text.parse().unwrap()
}

fn with(text: &str, condition: &str, context: serde_json::Value) -> Tuple {
    let serde_json::Value::Object(map) = context else {
        panic!("a context is an object")
    };
    plain(text).with_condition(condition, Context::from_map(map))
}

fn stores(data: &[Tuple]) -> Vec<Box<dyn TupleStore>> {
    let stores: Vec<Box<dyn TupleStore>> = vec![
        Box::new(MemoryStore::new()),
        Box::new(SqliteStore::open_in_memory().unwrap()),
    ];
    for store in &stores {
        store.write(data, &[]).unwrap();
    }
    stores
}

fn request(context: serde_json::Value) -> RequestContext {
    let serde_json::Value::Object(context) = context else {
        panic!("a context is an object")
    };
    RequestContext {
        context,
        ..RequestContext::default()
    }
}

/// The decision of every store (they must agree).
fn decide(data: &[Tuple], request: &RequestContext, question: &str) -> Result<Decision, String> {
    let schema = schema();
    let question = plain(question);
    let mut answers = Vec::new();
    for store in stores(data) {
        let engine = Engine::new(&schema, store.as_ref()).with_request(request);
        let at = store.head_revision().unwrap();
        answers.push(
            engine
                .decide(&question.object, &question.relation, &question.subject, at)
                .map_err(|e| e.to_string()),
        );
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "stores disagree: {answers:?}"
    );
    answers.remove(0)
}

fn conditional(missing: &[&str]) -> Decision {
    Decision::Conditional {
        missing: missing.iter().map(|m| (*m).to_owned()).collect(),
    }
}

#[test]
fn a_condition_with_every_value_decides() {
    let data = [with(
        "document:d#viewer@user:bob",
        "office_network",
        json!({"cidr": "10.0.0.0/8"}),
    )];
    let inside = request(json!({"client_ip": "10.1.2.3"}));
    let outside = request(json!({"client_ip": "192.168.0.1"}));
    assert_eq!(
        decide(&data, &inside, "document:d#view@user:bob"),
        Ok(Decision::Allowed)
    );
    assert_eq!(
        decide(&data, &outside, "document:d#view@user:bob"),
        Ok(Decision::Denied)
    );
    assert_eq!(
        decide(&data, &inside, "document:d#view@user:eve"),
        Ok(Decision::Denied)
    );
}

#[test]
fn a_missing_parameter_makes_the_answer_conditional_never_denied() {
    let data = [with(
        "document:d#viewer@user:bob",
        "office_network",
        json!({"cidr": "10.0.0.0/8"}),
    )];
    let empty = RequestContext::default();
    assert_eq!(
        decide(&data, &empty, "document:d#view@user:bob"),
        Ok(conditional(&["client_ip"]))
    );
    // `check` keeps Keto's shape: conditional is not allowed.
    let schema = schema();
    let store = MemoryStore::new();
    store.write(&data, &[]).unwrap();
    let question = plain("document:d#view@user:bob");
    let engine = Engine::new(&schema, &store);
    assert!(!engine
        .check_tuple(&question, store.head_revision().unwrap())
        .unwrap());
}

#[test]
fn the_stored_context_wins_over_the_request() {
    let data = [with(
        "document:d#viewer@user:bob",
        "office_network",
        json!({"cidr": "10.0.0.0/8"}),
    )];
    // The caller cannot widen the network the writer fixed.
    let widened = request(json!({"client_ip": "192.168.0.1", "cidr": "0.0.0.0/0"}));
    assert_eq!(
        decide(&data, &widened, "document:d#view@user:bob"),
        Ok(Decision::Denied)
    );
}

#[test]
fn a_plain_grant_beside_a_conditional_one_is_allowed() {
    let data = [
        with(
            "document:d#viewer@user:bob",
            "office_network",
            json!({"cidr": "10.0.0.0/8"}),
        ),
        plain("folder:f#viewer@user:bob"),
        plain("document:d#parent@folder:f"),
    ];
    assert_eq!(
        decide(
            &data,
            &RequestContext::default(),
            "document:d#view@user:bob"
        ),
        Ok(Decision::Allowed)
    );
}

#[test]
fn exclusion_with_a_conditional_right_side_is_conditional() {
    let data = [
        plain("document:d#viewer@user:bob"),
        with("document:d#blocked@user:bob", "other_flag", json!({})),
    ];
    let empty = RequestContext::default();
    assert_eq!(
        decide(&data, &empty, "document:d#view_unblocked@user:bob"),
        Ok(conditional(&["also"]))
    );
    assert_eq!(
        decide(
            &data,
            &request(json!({"also": false})),
            "document:d#view_unblocked@user:bob"
        ),
        Ok(Decision::Allowed)
    );
    assert_eq!(
        decide(
            &data,
            &request(json!({"also": true})),
            "document:d#view_unblocked@user:bob"
        ),
        Ok(Decision::Denied)
    );
}

#[test]
fn intersection_combines_as_kleene_logic() {
    let data = [
        plain("document:d#viewer@user:bob"),
        with("document:d#cleared@user:bob", "third_flag", json!({})),
        with("document:d#cleared@user:eve", "third_flag", json!({})),
    ];
    let empty = RequestContext::default();
    assert_eq!(
        decide(&data, &empty, "document:d#view_cleared@user:bob"),
        Ok(conditional(&["third"]))
    );
    // Eve is no viewer: denied whatever the missing value.
    assert_eq!(
        decide(&data, &empty, "document:d#view_cleared@user:eve"),
        Ok(Decision::Denied)
    );
}

#[test]
fn an_arrow_through_a_conditional_tuple_is_conditional_at_best() {
    let data = [
        with("document:d#parent@folder:f", "flag", json!({})),
        plain("folder:f#viewer@user:bob"),
    ];
    assert_eq!(
        decide(
            &data,
            &RequestContext::default(),
            "document:d#view@user:bob"
        ),
        Ok(conditional(&["on"]))
    );
    assert_eq!(
        decide(
            &data,
            &request(json!({"on": true})),
            "document:d#view@user:bob"
        ),
        Ok(Decision::Allowed)
    );
    assert_eq!(
        decide(
            &data,
            &request(json!({"on": false})),
            "document:d#view@user:bob"
        ),
        Ok(Decision::Denied)
    );
}

/// `document:d#view_every_parent@user:bob` for each request context.
fn every_parent(data: &[Tuple], contexts: &[serde_json::Value]) -> Vec<Decision> {
    contexts
        .iter()
        .map(|c| {
            decide(
                data,
                &request(c.clone()),
                "document:d#view_every_parent@user:bob",
            )
            .unwrap()
        })
        .collect()
}

#[test]
fn all_through_a_conditional_tuple_to_a_denied_target_is_conditional_not_denied() {
    // If `flag` is false, `folder:g` is no parent and bob views every
    // parent left; if it is true, he does not.
    let data = [
        plain("document:d#parent@folder:f"),
        with("document:d#parent@folder:g", "flag", json!({})),
        plain("folder:f#viewer@user:bob"),
    ];
    assert_eq!(
        every_parent(
            &data,
            &[json!({}), json!({"on": false}), json!({"on": true})]
        ),
        [conditional(&["on"]), Decision::Allowed, Decision::Denied]
    );
    // A hop through a plain tuple to a denied target still denies.
    let plain_hop = [
        with("document:d#parent@folder:f", "flag", json!({})),
        plain("document:d#parent@folder:g"),
        plain("folder:f#viewer@user:bob"),
    ];
    assert_eq!(every_parent(&plain_hop, &[json!({})]), [Decision::Denied]);
}

#[test]
fn all_through_conditional_tuples_only_is_conditional_on_them() {
    // The parents may all turn out absent: `.all` over nothing is denied.
    let data = [
        with("document:d#parent@folder:f", "flag", json!({})),
        with("document:d#parent@folder:g", "flag", json!({})),
        plain("folder:f#viewer@user:bob"),
        plain("folder:g#viewer@user:bob"),
    ];
    assert_eq!(
        every_parent(
            &data,
            &[json!({}), json!({"on": true}), json!({"on": false})]
        ),
        [conditional(&["on"]), Decision::Allowed, Decision::Denied]
    );
    // A condition the tuple fixed true is no pending condition.
    let fixed = [
        with("document:d#parent@folder:f", "flag", json!({})),
        with("document:d#parent@folder:g", "flag", json!({"on": true})),
        plain("folder:f#viewer@user:bob"),
        plain("folder:g#viewer@user:bob"),
    ];
    assert_eq!(every_parent(&fixed, &[json!({})]), [Decision::Allowed]);
    // No parent leads to bob: denied whether the tuples hold or not.
    let nowhere = [with("document:d#parent@folder:f", "flag", json!({}))];
    assert_eq!(every_parent(&nowhere, &[json!({})]), [Decision::Denied]);
}

#[test]
fn all_through_a_conditional_tuple_to_a_conditional_target_misses_both() {
    let data = [
        plain("document:d#parent@folder:f"),
        with("document:d#parent@folder:g", "flag", json!({})),
        plain("folder:f#viewer@user:bob"),
        with("folder:g#viewer@user:bob", "other_flag", json!({})),
    ];
    assert_eq!(
        every_parent(
            &data,
            &[
                json!({}),
                json!({"also": true}),
                json!({"also": false}),
                json!({"on": false}),
                json!({"on": true}),
            ]
        ),
        [
            conditional(&["also", "on"]),
            Decision::Allowed,
            conditional(&["on"]),
            Decision::Allowed,
            conditional(&["also"]),
        ]
    );
}

#[test]
fn explain_of_all_shows_each_hop_implied_and_the_hop_that_must_exist() {
    let schema = schema();
    let store = MemoryStore::new();
    let data = [
        with("document:d#parent@folder:f", "flag", json!({})),
        plain("folder:f#viewer@user:bob"),
    ];
    let at = store.write(&data, &[]).unwrap();
    let engine = Engine::new(&schema, &store);
    let explain = |question: &str| {
        let question = plain(question);
        engine
            .explain(&question.object, &question.relation, &question.subject, at)
            .unwrap()
    };
    fn find(node: &zanzi::engine::ExplainNode, step: &str) -> Vec<Outcome> {
        let name = serde_json::to_value(&node.step).unwrap()["step"].clone();
        let mut found: Vec<Outcome> = node.children.iter().flat_map(|c| find(c, step)).collect();
        if name == step {
            found.insert(0, node.outcome);
        }
        found
    }
    // Bob: the hop is allowed, but the parent may turn out absent.
    let bob = explain("document:d#view_every_parent@user:bob");
    assert_eq!(bob.outcome, Outcome::Conditional);
    let tree = bob.tree.as_ref().unwrap();
    assert_eq!(find(tree, "arrow"), [Outcome::Conditional]);
    assert_eq!(find(tree, "arrow_branch"), [Outcome::Granted]);
    assert_eq!(find(tree, "some_hop"), [Outcome::Conditional]);
    // Eve: the hop is conditional (the parent may be absent), but no
    // parent leads to her: denied.
    let eve = explain("document:d#view_every_parent@user:eve");
    assert_eq!(eve.outcome, Outcome::Denied);
    let tree = eve.tree.as_ref().unwrap();
    assert_eq!(find(tree, "arrow"), [Outcome::Denied]);
    assert_eq!(find(tree, "arrow_branch"), [Outcome::Conditional]);
    assert_eq!(find(tree, "some_hop"), [Outcome::Denied]);
    assert!(
        eve.render()
            .contains("some hop of document:d#parent leads to `viewer`"),
        "{}",
        eve.render()
    );
}

#[test]
fn subject_sets_and_wildcards_carry_their_conditions() {
    let data = [
        with("document:d#viewer@group:g#member", "flag", json!({})),
        with("group:g#member@user:ann", "third_flag", json!({})),
        with("document:e#viewer@user:*", "flag", json!({"on": true})),
    ];
    let empty = RequestContext::default();
    assert_eq!(
        decide(&data, &empty, "document:d#view@user:ann"),
        Ok(conditional(&["on", "third"]))
    );
    assert_eq!(
        decide(
            &data,
            &request(json!({"third": true})),
            "document:d#view@user:ann"
        ),
        Ok(conditional(&["on"]))
    );
    assert_eq!(
        decide(&data, &empty, "document:e#view@user:zed"),
        Ok(Decision::Allowed)
    );
}

#[test]
fn conditional_cycles_reach_the_least_fixed_point() {
    // g1 ∋ ann if `third`; g1 ∋ g2's members if `on`; g2 ∋ g1's members if
    // `also`: ann is in g2 given also ∧ third, and the least fixed point of
    // the rules names every parameter met on the cycle.
    let data = [
        with("group:g1#member@user:ann", "third_flag", json!({})),
        with("group:g1#member@group:g2#member", "flag", json!({})),
        with("group:g2#member@group:g1#member", "other_flag", json!({})),
    ];
    let empty = RequestContext::default();
    let expected = conditional(&["also", "on", "third"]);
    assert_eq!(
        decide(&data, &empty, "group:g2#member@user:ann"),
        Ok(expected.clone())
    );
    assert_eq!(
        decide(&data, &empty, "group:g1#member@user:ann"),
        Ok(expected)
    );
    let all = request(json!({"on": true, "also": true, "third": true}));
    assert_eq!(
        decide(&data, &all, "group:g2#member@user:ann"),
        Ok(Decision::Allowed)
    );
    let no_third = request(json!({"on": true, "also": true, "third": false}));
    assert_eq!(
        decide(&data, &no_third, "group:g2#member@user:ann"),
        Ok(Decision::Denied)
    );
}

#[test]
fn an_expired_tuple_counts_for_nothing_at_any_snapshot() {
    let expiry = Expiry::parse("2027-01-01T00:00:00Z").unwrap();
    let data = [plain("document:d#owner@user:bob").with_expiry(expiry)];
    let before = RequestContext {
        now: Some(Expiry::parse("2026-12-31T23:59:59Z").unwrap()),
        ..RequestContext::default()
    };
    let at = RequestContext {
        now: Some(expiry),
        ..RequestContext::default()
    };
    assert_eq!(
        decide(&data, &before, "document:d#owner@user:bob"),
        Ok(Decision::Allowed)
    );
    assert_eq!(
        decide(&data, &at, "document:d#owner@user:bob"),
        Ok(Decision::Denied)
    );
    // An old snapshot does not bring it back.
    let schema = schema();
    let store = MemoryStore::new();
    let written = store.write(&data, &[]).unwrap();
    store
        .write(&[plain("document:x#owner@user:bob")], &[])
        .unwrap();
    let question = plain("document:d#owner@user:bob");
    let engine = Engine::new(&schema, &store).with_request(&at);
    assert_eq!(
        engine
            .decide(
                &question.object,
                &question.relation,
                &question.subject,
                written
            )
            .unwrap(),
        Decision::Denied
    );
    let explained = engine
        .explain(
            &question.object,
            &question.relation,
            &question.subject,
            written,
        )
        .unwrap();
    assert!(
        explained
            .render()
            .contains("expired at 2027-01-01T00:00:00Z"),
        "{}",
        explained.render()
    );
}

#[test]
fn contextual_tuples_hold_for_one_request_only() {
    let schema = schema();
    let store = MemoryStore::new();
    let at = store.head_revision().unwrap();
    let question = plain("document:d#view@user:bob");
    let with_tuples = RequestContext {
        tuples: vec![
            plain("document:d#parent@folder:f"),
            with("folder:f#viewer@user:bob", "flag", json!({})).key(),
        ],
        ..RequestContext::default()
    };
    let engine = Engine::new(&schema, &store).with_request(&with_tuples);
    assert_eq!(
        engine
            .decide(&question.object, &question.relation, &question.subject, at)
            .unwrap(),
        Decision::Allowed
    );
    let conditional_tuple = RequestContext {
        tuples: vec![with(
            "document:d#viewer@user:bob",
            "office_network",
            json!({"cidr": "10.0.0.0/8"}),
        )],
        context: request(json!({"client_ip": "10.0.0.1"})).context,
        ..RequestContext::default()
    };
    let engine = Engine::new(&schema, &store).with_request(&conditional_tuple);
    assert_eq!(
        engine
            .decide(&question.object, &question.relation, &question.subject, at)
            .unwrap(),
        Decision::Allowed
    );
    // Nothing was stored.
    let engine = Engine::new(&schema, &store);
    assert_eq!(
        engine
            .decide(&question.object, &question.relation, &question.subject, at)
            .unwrap(),
        Decision::Denied
    );
}

#[test]
fn a_failing_condition_is_an_error_never_a_deny() {
    let data = [with(
        "document:d#viewer@user:bob",
        "office_network",
        json!({"cidr": "10.0.0.0/8"}),
    )];
    let bad_ip = request(json!({"client_ip": "not an address"}));
    let answer = decide(&data, &bad_ip, "document:d#view@user:bob");
    let error = answer.unwrap_err();
    assert!(error.contains("office_network"), "{error}");
    let bad_cidr = [with(
        "document:d#viewer@user:bob",
        "office_network",
        json!({"cidr": "10.0.0.0/99"}),
    )];
    let inside = request(json!({"client_ip": "10.1.2.3"}));
    assert!(decide(&bad_cidr, &inside, "document:d#view@user:bob").is_err());
}

#[test]
fn explain_names_the_condition_and_the_values_that_decided_it() {
    let schema = schema();
    let store = MemoryStore::new();
    let data = [with(
        "document:d#viewer@user:bob",
        "office_network",
        json!({"cidr": "10.0.0.0/8"}),
    )];
    let at = store.write(&data, &[]).unwrap();
    let question = plain("document:d#view@user:bob");
    let inside = request(json!({"client_ip": "10.1.2.3"}));
    let engine = Engine::new(&schema, &store).with_request(&inside);
    let explained = engine
        .explain(&question.object, &question.relation, &question.subject, at)
        .unwrap();
    assert_eq!(explained.outcome, Outcome::Granted);
    let text = explained.render();
    assert!(text.contains("condition office_network"), "{text}");
    assert!(
        text.contains("10.0.0.0/8") && text.contains("10.1.2.3"),
        "{text}"
    );
    let engine = Engine::new(&schema, &store);
    let explained = engine
        .explain(&question.object, &question.relation, &question.subject, at)
        .unwrap();
    assert_eq!(explained.outcome, Outcome::Conditional);
    assert_eq!(explained.missing, vec!["client_ip".to_owned()]);
    fn has_condition(node: &zanzi::engine::ExplainNode) -> bool {
        matches!(node.step, Step::Condition { .. }) || node.children.iter().any(has_condition)
    }
    assert!(has_condition(explained.tree.as_ref().unwrap()));
    let _ = EngineError::DeadlineExceeded;
}
