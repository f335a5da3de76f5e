//! Keto's gRPC API (`ory.keto.relation_tuples.v1alpha2`, and the syntax
//! check of `ory.keto.opl.v1alpha1`), answered by the code that answers
//! Keto's REST API ([`crate::server::keto::handlers`]): a gRPC message is
//! turned into what REST reads (a [`Relationship`], query [`Params`]), the
//! same shared function runs, and its answer is turned back.
//!
//! Errors are REST's, as statuses ([`super::status::to_status`]); the field
//! an error is about, which the shared code names in Keto's REST keys
//! (`subject_id`, …), is named by its path in the request
//! (`tuple.subject.id`) in the message and in the `field` detail.

/// The parts of a listing's or delete's deprecated `query` (two message
/// types with the same fields), for [`chosen_query`].
macro_rules! deprecated_query {
    ($request:expr) => {{
        #[allow(deprecated)]
        let query = $request.query.as_ref();
        query.map(|q| {
            (
                q.namespace.as_str(),
                q.object.as_str(),
                q.relation.as_str(),
                q.subject.as_ref(),
            )
        })
    }};
}

mod read;
mod syntax;
mod write;

use std::sync::Arc;

use tonic::service::RoutesBuilder;

use crate::api::keto::subjects::FIELD;
use crate::api::keto::{ExpandedTree, Relationship, SubjectSet};
use crate::api::proto::keto::relation_tuples::v1alpha2 as pb;
use crate::api::ApiError;
use crate::server::consistency::Consistency;
use crate::server::keto::params::Params;
use crate::server::AppState;

use super::status::invalid_field;

/// CheckService, ExpandService, ReadService, NamespacesService.
pub(super) fn add_read(routes: &mut RoutesBuilder, state: &Arc<AppState>) {
    let service = read::Read(state.clone());
    routes
        .add_service(limited!(
            state,
            pb::check_service_server::CheckServiceServer::new(service.clone())
        ))
        .add_service(limited!(
            state,
            pb::expand_service_server::ExpandServiceServer::new(service.clone())
        ))
        .add_service(limited!(
            state,
            pb::read_service_server::ReadServiceServer::new(service.clone())
        ))
        .add_service(limited!(
            state,
            pb::namespaces_service_server::NamespacesServiceServer::new(service)
        ));
}

/// WriteService.
pub(super) fn add_write(routes: &mut RoutesBuilder, state: &Arc<AppState>) {
    routes.add_service(limited!(
        state,
        pb::write_service_server::WriteServiceServer::new(write::Write(state.clone()))
    ));
}

/// SyntaxService.
pub(super) fn add_syntax(routes: &mut RoutesBuilder, state: &Arc<AppState>) {
    use crate::api::proto::keto::opl::v1alpha1::syntax_service_server::SyntaxServiceServer;
    routes.add_service(limited!(state, SyntaxServiceServer::new(syntax::Syntax)));
}

// ---------------------------------------------------------------------------
// Field names.

/// The request path of the field a REST key names, under `prefix`.
fn grpc_field(prefix: &str, key: &str) -> String {
    let path = match key {
        "subject_id" => "subject.id".to_owned(),
        "subject_set" => "subject.set".to_owned(),
        "max-depth" => "max_depth".to_owned(),
        key => match key.strip_prefix("subject_set.") {
            Some(part) => format!("subject.set.{part}"),
            None => key.to_owned(),
        },
    };
    match (prefix, path.as_str()) {
        ("", _) => path,
        (_, "") => prefix.to_owned(),
        _ => format!("{prefix}.{path}"),
    }
}

/// `error` naming its field by its path under `prefix`, when it names one
/// (an error about no field, such as an expired snapshot, is left alone).
fn named(prefix: &str) -> impl Fn(ApiError) -> ApiError + '_ {
    move |error| {
        let key = error
            .details
            .as_ref()
            .and_then(|d| d.get(FIELD))
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        match key {
            Some(key) => at_path(error, &grpc_field(prefix, &key)),
            None => error,
        }
    }
}

/// `error` about the field at `path`: named in its message and details.
fn at_path(error: ApiError, path: &str) -> ApiError {
    let message = format!("`{path}`: {}", error.message);
    ApiError { message, ..error }.with_detail(FIELD, path)
}

// ---------------------------------------------------------------------------
// Messages to REST's types and back.

/// A tuple as REST's relationship. A missing subject stays missing: the
/// shared code refuses it naming `subject`.
fn relationship(tuple: &pb::RelationTuple) -> Relationship {
    let (subject_id, subject_set) = subject_parts(tuple.subject.as_ref());
    Relationship {
        namespace: tuple.namespace.clone(),
        object: tuple.object.clone(),
        relation: tuple.relation.clone(),
        subject_id,
        subject_set,
        condition: None,
        expires_at: None,
    }
}

fn subject_parts(subject: Option<&pb::Subject>) -> (Option<String>, Option<SubjectSet>) {
    use pb::subject::Ref;
    match subject.and_then(|s| s.r#ref.as_ref()) {
        Some(Ref::Id(id)) => (Some(id.clone()), None),
        Some(Ref::Set(set)) => (
            None,
            Some(SubjectSet {
                namespace: set.namespace.clone(),
                object: set.object.clone(),
                relation: set.relation.clone(),
            }),
        ),
        None => (None, None),
    }
}

fn to_subject(
    subject_id: Option<&String>,
    subject_set: Option<&SubjectSet>,
) -> Option<pb::Subject> {
    use pb::subject::Ref;
    let r#ref = match (subject_id, subject_set) {
        (Some(id), _) => Ref::Id(id.clone()),
        (None, Some(set)) => Ref::Set(pb::SubjectSet {
            namespace: set.namespace.clone(),
            object: set.object.clone(),
            relation: set.relation.clone(),
        }),
        (None, None) => return None,
    };
    Some(pb::Subject { r#ref: Some(r#ref) })
}

fn to_tuple(rel: &Relationship) -> pb::RelationTuple {
    pb::RelationTuple {
        namespace: rel.namespace.clone(),
        object: rel.object.clone(),
        relation: rel.relation.clone(),
        subject: to_subject(rel.subject_id.as_ref(), rel.subject_set.as_ref()),
    }
}

/// Keto's tree; its gRPC node types have no arrow or computed set: those
/// are `NODE_TYPE_UNSPECIFIED`, as Keto answers them.
fn to_subject_tree(tree: &ExpandedTree) -> pb::SubjectTree {
    let node_type = match tree.kind {
        "union" => pb::NodeType::Union,
        "exclusion" => pb::NodeType::Exclusion,
        "intersection" => pb::NodeType::Intersection,
        "leaf" => pb::NodeType::Leaf,
        _ => pb::NodeType::Unspecified,
    };
    let tuple = tree.tuple.as_ref().map(to_tuple);
    #[allow(deprecated)]
    pb::SubjectTree {
        node_type: node_type.into(),
        subject: tuple.as_ref().and_then(|t| t.subject.clone()),
        tuple,
        children: tree.children.iter().map(to_subject_tree).collect(),
    }
}

/// The query parameters REST reads for a relation query: `namespace`,
/// `object`, `relation`, `subject_id` or `subject_set.*`. `field` names the
/// query in the request.
fn query_params(
    field: &str,
    namespace: Option<&str>,
    object: Option<&str>,
    relation: Option<&str>,
    subject: Option<&pb::Subject>,
) -> Result<Params, ApiError> {
    let mut pairs = Vec::new();
    for (key, value) in [
        ("namespace", namespace),
        ("object", object),
        ("relation", relation),
    ] {
        if let Some(value) = value {
            pairs.push((key.to_owned(), value.to_owned()));
        }
    }
    if let Some(subject) = subject {
        match subject_parts(Some(subject)) {
            (Some(id), _) => pairs.push(("subject_id".to_owned(), id)),
            (None, Some(set)) => pairs.extend([
                ("subject_set.namespace".to_owned(), set.namespace),
                ("subject_set.object".to_owned(), set.object),
                ("subject_set.relation".to_owned(), set.relation),
            ]),
            (None, None) => {
                let path = format!("{field}.subject");
                return Err(invalid_field(
                    &path,
                    format!("`{path}`: a subject is an `id` or a `set`; this one is neither"),
                ));
            }
        }
    }
    Ok(Params::from_pairs(pairs))
}

/// The query of a listing or delete: `relation_query`, else the
/// deprecated `query` (namespace, object, relation, subject; an empty
/// string is unset), as REST's parameters; and the name of the one given.
fn chosen_query(
    relation_query: Option<&pb::RelationQuery>,
    deprecated: Option<(&str, &str, &str, Option<&pb::Subject>)>,
) -> Result<(&'static str, Params), ApiError> {
    let given = |value: &str| Some(value.to_owned()).filter(|v| !v.is_empty());
    match (relation_query, deprecated) {
        (Some(q), _) => Ok((
            "relation_query",
            query_params(
                "relation_query",
                q.namespace.as_deref(),
                q.object.as_deref(),
                q.relation.as_deref(),
                q.subject.as_ref(),
            )?,
        )),
        (None, Some((namespace, object, relation, subject))) => Ok((
            "query",
            query_params(
                "query",
                given(namespace).as_deref(),
                given(object).as_deref(),
                given(relation).as_deref(),
                subject,
            )?,
        )),
        (None, None) => Err(invalid_field(
            "relation_query",
            "`relation_query`: you must provide a query",
        )),
    }
}

/// Keto's consistency fields: `latest` reads the newest revision, a
/// `snaptoken` one at least as fresh as its own (checked even with
/// `latest`); neither, the newest revision this server has seen.
fn consistency(state: &AppState, latest: bool, snaptoken: &str) -> Result<Consistency, ApiError> {
    let fresh = Consistency::parse(state, None, Some(snaptoken)).map_err(named(""))?;
    Ok(if latest {
        Consistency::FullyConsistent
    } else {
        fresh
    })
}

/// The depth limit a request's `max_depth` asks for (0: the server's).
fn depth(state: &AppState, max_depth: i32) -> Result<u32, ApiError> {
    state
        .depth(Some(i64::from(max_depth)))
        .map_err(|e| at_path(e, "max_depth"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_keys_become_request_paths() {
        assert_eq!(grpc_field("tuple", "subject_id"), "tuple.subject.id");
        assert_eq!(
            grpc_field("relation_query", "subject_set.relation"),
            "relation_query.subject.set.relation"
        );
        assert_eq!(grpc_field("", "namespace"), "namespace");
        assert_eq!(grpc_field("tuples[2]", ""), "tuples[2]");
        let error = named("tuple")(
            ApiError::not_found("unknown_name", "unknown namespace `x`")
                .with_detail(FIELD, "namespace"),
        );
        assert_eq!(error.message, "`tuple.namespace`: unknown namespace `x`");
        let untouched = named("tuple")(ApiError::bad_request("snapshot_expired", "too old"));
        assert_eq!(untouched.message, "too old");
    }
}
