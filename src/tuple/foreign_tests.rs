#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use proptest::prelude::*;

use super::*;

fn tricky_tuples() -> Vec<Tuple> {
    vec![
        "document:readme#viewer@user:alice".parse().unwrap(),
        "File:a%20b#view@group:eng#member".parse().unwrap(),
        "example/doc:x%3Ay%23z#viewer@example/user:*"
            .parse()
            .unwrap(),
        Tuple::new(
            Object::new("document", "ünï cödé: #1 @home"),
            "viewer",
            Subject::object("user", "zoë o'neil, \"jr\""),
        ),
    ]
}

#[test]
fn spicedb_relationships() {
    let t = parse_spicedb("document:d#viewer@user:bob").unwrap();
    assert_eq!(t.to_string(), "document:d#viewer@user:bob");
    let t = parse_spicedb("document:d#viewer@user:bob#...").unwrap();
    assert_eq!(t.subject, Subject::object("user", "bob"));
    let t = parse_spicedb("  example/document:d#viewer@example/group:eng#member ").unwrap();
    assert_eq!(t.subject, Subject::set("example/group", "eng", "member"));
    let t = parse_spicedb("document:d#viewer@user:*").unwrap();
    assert_eq!(t.subject, Subject::wildcard("user"));
    // Caveats and expirations are zanzi's conditions and expiries.
    let t = parse_spicedb("document:d#viewer@user:bob[only_on_tuesday:{\"day\": 1}]").unwrap();
    assert_eq!(
        t.to_string(),
        "document:d#viewer@user:bob[only_on_tuesday:{\"day\":1}]"
    );
    let t =
        parse_spicedb("document:d#viewer@user:bob#...[expiration:2025-01-01T00:00:00Z]").unwrap();
    assert_eq!(
        t.to_string(),
        "document:d#viewer@user:bob[expiration:2025-01-01T00:00:00Z]"
    );
    // Places in errors count in the text as written, `#...` included.
    let late = parse_spicedb("document:d#viewer@user:bob#...[expiration:soon]").unwrap_err();
    assert_eq!(late.at.start, 42, "{}", late.message);
    let bad = parse_spicedb("document:d#viewer").unwrap_err();
    assert_eq!(bad.at.start, 17);
}

#[test]
fn openfga_keys() {
    let t = from_openfga("group:eng#member", "viewer", "doc:1").unwrap();
    assert_eq!(t.to_string(), "doc:1#viewer@group:eng#member");
    let t = from_openfga("user:*", "viewer", "doc:a:b").unwrap();
    assert_eq!(t.object.id, "a:b");
    assert_eq!(t.subject, Subject::wildcard("user"));
    assert!(from_openfga("anne", "viewer", "doc:1").is_err());
    assert!(from_openfga("user:anne", "viewer", "doc").is_err());
    assert!(from_openfga("user:anne", "", "doc:1").is_err());
    let odd = Tuple::new(
        Object::new("doc", "1"),
        "viewer",
        Subject::object("user", "a#b"),
    );
    assert!(to_openfga(&odd).is_err());
}

/// A tuple's `condition: {name, context}` is read with its context typed as
/// OpenFGA's CLI types YAML; bad ones are refused at their place.
#[test]
fn openfga_tuple_conditions() {
    let yaml = "- user: user:anne\n  relation: viewer\n  object: doc:1\n  condition:\n    name: temporal_access\n    context:\n      grant_time : \"2023-01-01T00:00:00Z\"\n      grant_duration : 1h\n      limit: 100\n      ratio: 0.5\n      on: true\n      cidrs: [\"10.0.0.0/8\"]\n";
    let items = parse_openfga_list(yaml).unwrap();
    let tuple = items[0].value.as_ref().unwrap();
    let condition = tuple.condition.as_deref().unwrap();
    assert_eq!(condition.name, "temporal_access");
    assert_eq!(
        condition.context.as_json(),
        r#"{"cidrs":["10.0.0.0/8"],"grant_duration":"1h","grant_time":"2023-01-01T00:00:00Z","limit":100,"on":true,"ratio":0.5}"#
    );
    let json = r#"{"user": "user:anne", "relation": "viewer", "object": "doc:1", "condition": {"name": "c", "context": {"n": 1.5, "s": "1"}}}"#;
    let items = parse_openfga_jsonl(json);
    let context = &items[0]
        .value
        .as_ref()
        .unwrap()
        .condition
        .as_deref()
        .unwrap()
        .context;
    assert_eq!(context.as_json(), r#"{"n":1.5,"s":"1"}"#);
    // A name alone; a null context is none.
    let bare =
        "- {user: user:a, relation: viewer, object: doc:1, condition: {name: c, context: null}}\n";
    let tuple = parse_openfga_list(bare).unwrap()[0].value.clone().unwrap();
    assert_eq!(tuple.to_string(), "doc:1#viewer@user:a[c]");

    let error = |yaml: &str| {
        parse_openfga_list(yaml).unwrap()[0]
            .value
            .clone()
            .unwrap_err()
    };
    let place = |yaml: &str, e: &ForeignTupleError| yaml[e.at.clone()].to_owned();
    let not_map = "- {user: user:a, relation: viewer, object: doc:1, condition: in_range}\n";
    let e = error(not_map);
    assert!(e.message.contains("`condition` is a mapping"), "{e:?}");
    assert_eq!(place(not_map, &e), "in_range");
    let no_name =
        "- user: user:a\n  relation: viewer\n  object: doc:1\n  condition:\n    context: {x: 1}\n";
    let e = error(no_name);
    assert!(e.message.contains("missing `name`"), "{e:?}");
    let list_context = "- user: user:a\n  relation: viewer\n  object: doc:1\n  condition:\n    name: c\n    context: [1, 2]\n";
    let e = error(list_context);
    assert!(e.message.contains("`context` is a mapping"), "{e:?}");
    assert_eq!(place(list_context, &e), "[1, 2]");
    let odd_key = "- user: user:a\n  relation: viewer\n  object: doc:1\n  condition:\n    name: c\n    context: {[a]: 1}\n";
    let e = error(odd_key);
    assert!(e.message.contains("keys of a context are names"), "{e:?}");
}

#[test]
fn openfga_files() {
    let yaml = "- user: user:anne\n  relation: viewer\n  object: doc:1\n- user: user:bob\n  relation: viewer\n  object: doc:2\n  condition:\n    name: in_range\n";
    let items = parse_openfga_list(yaml).unwrap();
    assert_eq!(items.len(), 2);
    assert!(items[0].value.is_ok());
    let conditioned = items[1].value.as_ref().unwrap();
    assert_eq!(conditioned.to_string(), "doc:2#viewer@user:bob[in_range]");
    let json = "[{\"user\": \"user:anne\", \"relation\": \"viewer\", \"object\": \"doc:1\"},\n {\"user\": \"user:x\"}]";
    let items = parse_openfga_list(json).unwrap();
    assert!(items[0].value.is_ok());
    let missing = items[1].value.as_ref().unwrap_err();
    assert!(
        missing.message.contains("missing `relation`"),
        "{}",
        missing.message
    );
    assert!(parse_openfga_list("user: x").is_err());
    let jsonl =
        "{\"user\": \"user:anne\", \"relation\": \"viewer\", \"object\": \"doc:1\"}\n\n{oops\n";
    let items = parse_openfga_jsonl(jsonl);
    assert_eq!(items.len(), 2);
    assert!(items[0].value.is_ok() && items[1].value.is_err());
    assert_eq!(items[1].at.start, jsonl.find("{oops").unwrap());
    let csv = "user_type,user_id,user_relation,relation,object_type,object_id\nuser,anne,,viewer,doc,1\ngroup,eng,member,viewer,doc,2\n";
    let items = parse_openfga_csv(csv).unwrap();
    assert_eq!(
        items[1].value.as_ref().unwrap().to_string(),
        "doc:2#viewer@group:eng#member"
    );
    let reordered = "object_id,object_type,relation,user_id,user_type\n1,doc,viewer,anne,user\n";
    assert!(parse_openfga_csv(reordered).unwrap()[0].value.is_ok());
    let err = parse_openfga_csv("user,relation\n").unwrap_err();
    assert!(
        err.message.contains("invalid header `user`"),
        "{}",
        err.message
    );
    let err = parse_openfga_csv("user_type,user_id,relation,object_type\n").unwrap_err();
    assert!(err.message.contains("`object_id`"), "{}", err.message);
}

#[test]
fn keto_files() {
    let one = "{\"namespace\": \"File\", \"object\": \"a\", \"relation\": \"viewers\", \"subject_id\": \"User:bob\"}";
    let items = parse_keto_json(one).unwrap();
    assert_eq!(
        items[0].value.as_ref().unwrap().subject_id.as_deref(),
        Some("User:bob")
    );
    let many = "[{\"namespace\": \"File\", \"object\": \"a\", \"relation\": \"viewers\", \"subject_set\": {\"namespace\": \"Group\", \"object\": \"eng\", \"relation\": \"members\"}},\n{\"namespace\": \"File\", \"object\": \"a\", \"relation\": \"viewers\"}]";
    let items = parse_keto_json(many).unwrap();
    assert_eq!(
        items[0].value.as_ref().unwrap().subject_set,
        Some(("Group".to_owned(), "eng".to_owned(), "members".to_owned()))
    );
    assert!(items[1].value.is_err());
    // What `keto relation-tuple get --format json` prints.
    let listed = "{\"relation_tuples\":[{\"namespace\":\"File\",\"object\":\"a\",\"relation\":\"viewers\",\"subject_id\":\"bob\"},{\"namespace\":\"File\",\"object\":\"b\",\"relation\":\"viewers\",\"subject_id\":\"ann\"}],\"next_page_token\":\"\"}";
    let items = parse_keto_json(listed).unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[1].value.as_ref().unwrap().subject_id.as_deref(),
        Some("ann")
    );
    assert!(parse_keto_json("{\"relation_tuples\": 3}").is_err());
}

#[test]
fn formats_are_told_apart() {
    assert_eq!(FileFormat::detect("t.csv", ""), FileFormat::OpenFgaCsv);
    assert_eq!(FileFormat::detect("t.yaml", ""), FileFormat::OpenFgaList);
    assert_eq!(FileFormat::detect("t.jsonl", ""), FileFormat::OpenFgaJsonl);
    assert_eq!(
        FileFormat::detect("t.json", "[{\"user\": \"u:a\"}]"),
        FileFormat::OpenFgaList
    );
    assert_eq!(
        FileFormat::detect("t.json", "[{\"namespace\": \"a\", \"subject_id\": \"b\"}]"),
        FileFormat::KetoJson
    );
    assert_eq!(
        FileFormat::detect("t.tuples", "doc:a#v@user:b\n"),
        FileFormat::Zanzi
    );
    assert_eq!(
        FileFormat::detect("t.txt", "doc:a#v@user:b#...\n"),
        FileFormat::SpiceDb
    );
}

#[test]
fn writers_round_trip() {
    for tuple in tricky_tuples() {
        assert_eq!(parse_spicedb(&to_spicedb(&tuple)).unwrap(), tuple);
        let key = to_openfga(&tuple).unwrap();
        assert_eq!(
            from_openfga(&key.user, &key.relation, &key.object).unwrap(),
            tuple
        );
        let csv = format!(
            "{OPENFGA_CSV_HEADER}\n{}\n",
            to_openfga_csv(&tuple).unwrap()
        );
        let items = parse_openfga_csv(&csv).unwrap();
        assert_eq!(items[0].value.as_ref().unwrap(), &tuple, "{csv}");
    }
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(":".to_owned()),
        Just("#".to_owned()),
        Just("@".to_owned()),
        Just("#...".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("{".to_owned()),
        Just("\"".to_owned()),
        Just(",".to_owned()),
        Just("\n".to_owned()),
        Just("- ".to_owned()),
        Just("user: ".to_owned()),
        Just("condition:".to_owned()),
        "[a-z/]{1,6}",
        "\\PC{0,3}",
    ]
}

proptest! {
    #[test]
    fn random_input_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let text = String::from_utf8_lossy(&bytes);
        check_spans(&text);
    }

    #[test]
    fn token_soups_never_panic(tokens in proptest::collection::vec(token(), 0..30)) {
        check_spans(&tokens.concat());
    }
}

/// Every reader accepts anything without panicking, and every place it
/// reports lies inside the text.
fn check_spans(text: &str) {
    let inside = |at: &Range<usize>| at.start <= at.end && at.end <= text.len();
    for line in text.lines() {
        if let Err(e) = parse_spicedb(line) {
            assert!(e.at.end <= line.len(), "{e:?} in {line:?}");
        }
    }
    let check_items = |items: Result<Vec<Item<Tuple>>, ForeignTupleError>| match items {
        Ok(items) => {
            for item in items {
                assert!(inside(&item.at), "{item:?}");
                if let Err(e) = item.value {
                    assert!(inside(&e.at), "{e:?}");
                }
            }
        }
        Err(e) => assert!(inside(&e.at), "{e:?}"),
    };
    check_items(parse_openfga_list(text));
    check_items(Ok(parse_openfga_jsonl(text)));
    check_items(parse_openfga_csv(text));
    match parse_keto_json(text) {
        Ok(items) => {
            for item in items {
                assert!(inside(&item.at));
            }
        }
        Err(e) => assert!(inside(&e.at), "{e:?}"),
    }
}

#[test]
fn openfga_writers_refuse_an_expiry_naming_the_tuple() {
    let tuple: Tuple = "doc:a#viewer@user:x[c][expiration:2027-01-01T00:00:00Z]"
        .parse()
        .unwrap();
    let refused = to_openfga(&tuple).unwrap_err();
    assert!(
        refused.contains("`doc:a#viewer@user:x[c][expiration:2027-01-01T00:00:00Z]`")
            && refused.contains("cannot expire"),
        "{refused}"
    );
    assert_eq!(to_openfga_csv(&tuple).unwrap_err(), refused);
}

fn conditioned_tuples() -> Vec<Tuple> {
    vec![
        "doc:a#viewer@user:x[in_range]".parse().unwrap(),
        r#"doc:a#viewer@group:eng#member[in_range:{"cidr":"10.0.0.0/8","n":[1,2],"q":"say \"hi\", ok"}]"#
            .parse()
            .unwrap(),
        "doc:a#viewer@user:*[in_range:{\"nested\":{\"b\":1,\"a\":null}}]"
            .parse()
            .unwrap(),
    ]
}

#[test]
fn openfga_writers_carry_conditions() {
    let tuple: Tuple = r#"doc:a#viewer@user:x[in_range:{"cidr":"10.0.0.0/8"}]"#
        .parse()
        .unwrap();
    let key = to_openfga(&tuple).unwrap();
    assert_eq!(
        serde_json::to_string(&key).unwrap(),
        r#"{"user":"user:x","relation":"viewer","object":"doc:a","condition":{"name":"in_range","context":{"cidr":"10.0.0.0/8"}}}"#
    );
    // No context: only the name, as `fga` writes it.
    let bare = to_openfga(&"doc:a#viewer@user:x[in_range]".parse().unwrap()).unwrap();
    assert_eq!(
        serde_json::to_value(&bare).unwrap()["condition"],
        serde_json::json!({"name": "in_range"})
    );
    assert_eq!(
        to_openfga_csv(&tuple).unwrap(),
        r#"user,x,,viewer,doc,a,in_range,"{""cidr"":""10.0.0.0/8""}""#
    );
    for tuple in conditioned_tuples().into_iter().chain(tricky_tuples()) {
        let csv = format!(
            "{OPENFGA_CSV_HEADER}\n{}\n",
            to_openfga_csv(&tuple).unwrap()
        );
        let items = parse_openfga_csv(&csv).unwrap();
        assert_eq!(items[0].value.as_ref().unwrap(), &tuple, "{csv}");
    }
}

#[test]
fn openfga_csv_reads_conditions() {
    let csv = concat!(
        "user_type,user_id,relation,object_type,object_id,condition_name,condition_context\n",
        "user,anne,viewer,doc,1,in_range,\"{\"\"cidr\"\": \"\"10.0.0.0/8\"\"}\"\n",
        "user,bob,viewer,doc,1,in_range,\n",
        "user,cy,viewer,doc,1,,\n",
        "user,dee,viewer,doc,1,in_range,[1]\n",
        "user,eve,viewer,doc,1,in_range,{oops\n",
        "user,fay,viewer,doc,1,,{}\n",
        "user,gil,viewer,doc,1,in range,\n",
    );
    let items = parse_openfga_csv(csv).unwrap();
    let shown: Vec<String> = items
        .iter()
        .map(|i| match &i.value {
            Ok(t) => t.to_string(),
            Err(e) => format!("{}..{}: {}", e.at.start, e.at.end, e.message),
        })
        .collect();
    let line = |n: usize| csv.lines().take(n - 1).map(|l| l.len() + 1).sum::<usize>();
    let dee = line(5) + "user,dee,viewer,doc,1,in_range,".len();
    let eve = line(6) + "user,eve,viewer,doc,1,in_range,".len();
    let fay = line(7) + "user,fay,viewer,doc,1,,".len();
    assert_eq!(
        shown,
        [
            r#"doc:1#viewer@user:anne[in_range:{"cidr":"10.0.0.0/8"}]"#.to_owned(),
            "doc:1#viewer@user:bob[in_range]".to_owned(),
            "doc:1#viewer@user:cy".to_owned(),
            format!(
                "{dee}..{}: the `condition_context` of row 4 is wrong: a context is a JSON object",
                dee + 3
            ),
            format!(
                "{eve}..{}: the `condition_context` of row 5 is wrong: invalid JSON: key must be a string at line 1 column 2",
                eve + 5
            ),
            format!(
                "{fay}..{}: row 6 has a `condition_context` but no `condition_name`",
                fay + 2
            ),
            format!(
                "{}..{}: invalid condition name `in range`: {}",
                line(8),
                line(8) + "user,gil,viewer,doc,1,in range,".len(),
                crate::tuple::name_problem("in range").unwrap()
            ),
        ]
    );
    let err =
        parse_openfga_csv("user_type,user_id,relation,object_type,object_id,condition_context\n")
            .unwrap_err();
    assert!(
        err.message.contains("no `condition_name` column"),
        "{}",
        err.message
    );
}
