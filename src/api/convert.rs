//! `zanzi.v1` messages to zanzi's own types and back, for the server and
//! the client. Structure only: a missing or empty part is refused naming
//! its field (`field` is the path of the message in the request, e.g.
//! `updates[2].tuple`); names are checked against the schema by the
//! caller, as the REST handlers do.

use super::error::invalid_field;
use super::proto::zanzi::v1 as pb;
use super::ApiError;
use crate::store::TupleFilter;
use crate::tuple::{Context, Expiry, Object, Subject, Tuple, TupleCondition};

fn required<'m, T>(field: &str, message: Option<&'m T>) -> Result<&'m T, ApiError> {
    message.ok_or_else(|| invalid_field(field, format!("`{field}` is required")))
}

fn non_empty(field: &str, value: &str) -> Result<String, ApiError> {
    if value.is_empty() {
        return Err(invalid_field(field, format!("`{field}` must not be empty")));
    }
    Ok(value.to_owned())
}

/// `namespace:id`.
pub fn object(field: &str, message: Option<&pb::ObjectRef>) -> Result<Object, ApiError> {
    let object = required(field, message)?;
    Ok(Object::new(
        non_empty(&format!("{field}.namespace"), &object.namespace)?,
        non_empty(&format!("{field}.id"), &object.id)?,
    ))
}

/// An object subject, a subject set, or a wildcard (`id` "*").
pub fn subject(field: &str, message: Option<&pb::SubjectRef>) -> Result<Subject, ApiError> {
    let subject = required(field, message)?;
    let object = object(&format!("{field}.object"), subject.object.as_ref())?;
    match (object.id.as_str(), subject.relation.as_str()) {
        ("*", "") => Ok(Subject::Wildcard {
            namespace: object.namespace,
        }),
        ("*", _) => Err(invalid_field(
            &format!("{field}.relation"),
            format!("`{field}`: a wildcard (`id` \"*\") has no relation"),
        )),
        (_, "") => Ok(Subject::Object(object)),
        (_, relation) => Ok(Subject::Set {
            object,
            relation: relation.to_owned(),
        }),
    }
}

/// `namespace:id#relation@subject`.
pub fn tuple(field: &str, message: Option<&pb::Tuple>) -> Result<Tuple, ApiError> {
    let message = required(field, message)?;
    let mut tuple = Tuple::new(
        object(&format!("{field}.object"), message.object.as_ref())?,
        non_empty(&format!("{field}.relation"), &message.relation)?,
        subject(&format!("{field}.subject"), message.subject.as_ref())?,
    );
    if let Some(condition) = &message.condition {
        let name = non_empty(&format!("{field}.condition.name"), &condition.name)?;
        let context = if condition.context.is_empty() {
            Context::default()
        } else {
            let at = format!("{field}.condition.context");
            Context::parse(&condition.context)
                .map_err(|problem| invalid_field(&at, format!("`{at}`: {problem}")))?
        };
        tuple.condition = Some(Box::new(TupleCondition { name, context }));
    }
    if !message.expires_at.is_empty() {
        let at = format!("{field}.expires_at");
        tuple.expires_at = Some(
            Expiry::parse(&message.expires_at)
                .map_err(|problem| invalid_field(&at, format!("`{at}`: {problem}")))?,
        );
    }
    Ok(tuple)
}

/// A filter: empty fields match anything; an `object_id` without a
/// `namespace` is allowed (it matches the ID in every namespace).
pub fn filter(field: &str, message: &pb::TupleFilter) -> Result<TupleFilter, ApiError> {
    let text = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
    Ok(TupleFilter {
        namespace: text(&message.namespace),
        object_id: text(&message.object_id),
        relation: text(&message.relation),
        subject: message
            .subject
            .as_ref()
            .map(|s| subject(&format!("{field}.subject"), Some(s)))
            .transpose()?,
        subject_object_in: None,
    })
}

pub fn to_object(object: &Object) -> pb::ObjectRef {
    pb::ObjectRef {
        namespace: object.namespace.clone(),
        id: object.id.clone(),
    }
}

pub fn to_subject(subject: &Subject) -> pb::SubjectRef {
    match subject {
        Subject::Object(object) => pb::SubjectRef {
            object: Some(to_object(object)),
            relation: String::new(),
        },
        Subject::Set { object, relation } => pb::SubjectRef {
            object: Some(to_object(object)),
            relation: relation.clone(),
        },
        Subject::Wildcard { namespace } => pb::SubjectRef {
            object: Some(pb::ObjectRef {
                namespace: namespace.clone(),
                id: "*".to_owned(),
            }),
            relation: String::new(),
        },
    }
}

pub fn to_tuple(tuple: &Tuple) -> pb::Tuple {
    pb::Tuple {
        object: Some(to_object(&tuple.object)),
        relation: tuple.relation.clone(),
        subject: Some(to_subject(&tuple.subject)),
        condition: tuple.condition.as_deref().map(|c| pb::TupleCondition {
            name: c.name.clone(),
            context: if c.context.is_empty() {
                String::new()
            } else {
                c.context.as_json().to_owned()
            },
        }),
        expires_at: tuple.expires_at.map(|e| e.to_string()).unwrap_or_default(),
    }
}

pub fn snaptoken(token: String) -> pb::Snaptoken {
    pb::Snaptoken { token }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuples_survive_the_round_trip_and_missing_parts_are_named() {
        for text in [
            "doc:a#viewer@user:x",
            "doc:a#viewer@group:eng#member",
            "doc:a#viewer@user:*",
            "doc:a#viewer@user:x[c]",
            r#"doc:a#viewer@user:x[c:{"n":1.5,"s":"]"}][expiration:2027-01-01T00:00:00.25Z]"#,
            "doc:a#viewer@user:*[expiration:2027-01-01T00:00:00Z]",
        ] {
            let tuple: Tuple = text.parse().unwrap_or_else(|e| unreachable!("{e}"));
            let back = super::tuple("t", Some(&to_tuple(&tuple)));
            assert_eq!(back.ok(), Some(tuple));
        }
        let mut message = to_tuple(&Tuple::new(
            Object::new("doc", "a"),
            "viewer",
            Subject::object("user", "x"),
        ));
        message.subject = None;
        let error = super::tuple("updates[1].tuple", Some(&message)).err();
        assert_eq!(
            error.map(|e| e.message),
            Some("`updates[1].tuple.subject` is required".to_owned())
        );
        let mut message = to_tuple(
            &"doc:a#viewer@user:x[c]"
                .parse()
                .unwrap_or_else(|e| unreachable!("{e}")),
        );
        message.expires_at = "tomorrow".into();
        let error = super::tuple("t", Some(&message)).err();
        assert_eq!(
            error
                .and_then(|e| e.details)
                .and_then(|d| d.get("field").cloned()),
            Some(serde_json::json!("t.expires_at"))
        );
        let wildcard_set = pb::SubjectRef {
            object: Some(pb::ObjectRef {
                namespace: "user".into(),
                id: "*".into(),
            }),
            relation: "member".into(),
        };
        let error = subject("s", Some(&wildcard_set)).err();
        assert_eq!(
            error
                .and_then(|e| e.details)
                .and_then(|d| d.get("field").cloned()),
            Some(serde_json::json!("s.relation"))
        );
    }
}
