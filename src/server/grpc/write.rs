//! `zanzi.v1.WriteService`: writes with preconditions, and the
//! preconditions of Keto's `TransactRelationTuples` (its field 100).
//!
//! A write is one [`ChangeSet`]: `delete_matching`, then the updates, all
//! at one revision, written only if every precondition holds when the
//! store's write transaction checks them (docs/api.md, "Preconditioned writes").
//! Tuples are validated as REST writes validate them: a touched tuple
//! against the schema ([`validate_tuple`]), a deleted one only for its
//! form (tuples of an older schema can be removed); filters by their names.
//! An error names the field at fault (`updates[2].tuple.subject`).

use std::sync::Arc;

use tonic::service::RoutesBuilder;
use tonic::{Request, Response, Status};

use super::convert;
use super::status::{invalid_field, on_blocking_pool};
use crate::api::keto::subjects::{
    filter_for_query, in_field, namespace_id, relation_id, write_error,
};
use crate::api::keto::{Access, RelationQuery, SubjectSet};
use crate::api::proto::keto::relation_tuples::v1alpha2 as keto_pb;
use crate::api::proto::zanzi::v1 as pb;
use crate::api::ApiError;
use crate::ir::Schema;
use crate::server::AppState;
use crate::store::{ChangeSet, Precondition, TupleFilter};
use crate::tuple::{validate_tuple, Tuple, WriteError};

/// WriteService.
pub(super) fn add_write(routes: &mut RoutesBuilder, state: &Arc<AppState>) {
    routes.add_service(limited!(
        state,
        pb::write_service_server::WriteServiceServer::new(Writer {
            state: Arc::clone(state),
        })
    ));
}

struct Writer {
    state: Arc<AppState>,
}

#[tonic::async_trait]
impl pb::write_service_server::WriteService for Writer {
    async fn write(
        &self,
        request: Request<pb::WriteRequest>,
    ) -> Result<Response<pb::WriteResponse>, Status> {
        let request = request.into_inner();
        let token = on_blocking_pool(&self.state, move |s| {
            let write = Write::from_request(&s.schema, &request)?;
            if write.is_empty() {
                // Nothing to write or check: the head, as an empty REST
                // PATCH answers.
                let head = s.refresh_head()?;
                return Ok(s.snaptoken(head));
            }
            let revision = s.store.apply(&write.change_set())?;
            s.saw(revision);
            Ok(s.snaptoken(revision))
        })
        .await?;
        Ok(Response::new(pb::WriteResponse {
            written_at: Some(convert::snaptoken(token)),
        }))
    }
}

/// A `WriteRequest`, validated.
struct Write {
    touches: Vec<Tuple>,
    deletes: Vec<Tuple>,
    delete_matching: Option<TupleFilter>,
    preconditions: Vec<Precondition>,
}

impl Write {
    fn from_request(schema: &Schema, request: &pb::WriteRequest) -> Result<Write, ApiError> {
        use pb::tuple_update::Operation;
        let mut write = Write {
            touches: Vec::new(),
            deletes: Vec::new(),
            delete_matching: None,
            preconditions: Vec::new(),
        };
        for (i, update) in request.updates.iter().enumerate() {
            let field = format!("updates[{i}]");
            let tuple_field = format!("{field}.tuple");
            let tuple = convert::tuple(&tuple_field, update.tuple.as_ref())?;
            match Operation::try_from(update.operation) {
                Ok(Operation::Touch) => {
                    validate_tuple(schema, &tuple)
                        .map_err(|e| tuple_error(schema, &tuple_field, &tuple, e))?;
                    write.touches.push(tuple);
                }
                Ok(Operation::Delete) => {
                    tuple.check_well_formed().map_err(|reason| {
                        invalid_field(
                            &tuple_field,
                            format!("{tuple_field}: invalid tuple `{tuple}`: {reason}"),
                        )
                    })?;
                    write.deletes.push(tuple);
                }
                Ok(Operation::Unspecified) | Err(_) => {
                    return Err(invalid_field(
                        &format!("{field}.operation"),
                        format!("`{field}.operation` must be OPERATION_TOUCH or OPERATION_DELETE"),
                    ))
                }
            }
        }
        if let Some(filter) = &request.delete_matching {
            let filter = typed_filter(schema, "delete_matching", filter)?;
            if filter.namespace.is_none() {
                // As REST's DELETE: a filter without a namespace would
                // remove tuples of every namespace.
                return Err(invalid_field(
                    "delete_matching.namespace",
                    "`delete_matching.namespace` is required",
                ));
            }
            write.delete_matching = Some(filter);
        }
        for (i, precondition) in request.preconditions.iter().enumerate() {
            use pb::precondition::Operation;
            let field = format!("preconditions[{i}]");
            let filter_field = format!("{field}.filter");
            let filter = precondition.filter.as_ref().ok_or_else(|| {
                invalid_field(&filter_field, format!("`{filter_field}` is required"))
            })?;
            let filter = typed_filter(schema, &filter_field, filter)?;
            let precondition = match Operation::try_from(precondition.operation) {
                Ok(Operation::MustExist) => Precondition::must_exist(filter),
                Ok(Operation::MustNotExist) => Precondition::must_not_exist(filter),
                Ok(Operation::Unspecified) | Err(_) => return Err(unspecified_operation(&field)),
            };
            write.preconditions.push(precondition);
        }
        Ok(write)
    }

    fn is_empty(&self) -> bool {
        self.touches.is_empty()
            && self.deletes.is_empty()
            && self.delete_matching.is_none()
            && self.preconditions.is_empty()
    }

    fn change_set(&self) -> ChangeSet<'_> {
        ChangeSet {
            inserts: &self.touches,
            deletes: &self.deletes,
            delete_matching: self.delete_matching.as_ref(),
            preconditions: &self.preconditions,
        }
    }
}

fn unspecified_operation(field: &str) -> ApiError {
    invalid_field(
        &format!("{field}.operation"),
        format!("`{field}.operation` must be OPERATION_MUST_EXIST or OPERATION_MUST_NOT_EXIST"),
    )
}

/// A tuple the schema refuses, as REST answers it ([`write_error`]), naming
/// the part of the tuple at fault.
pub(super) fn tuple_error(
    schema: &Schema,
    field: &str,
    tuple: &Tuple,
    error: WriteError,
) -> ApiError {
    let part = match &error {
        WriteError::UnknownNamespace { .. } => "object.namespace",
        WriteError::UnknownRelation { .. } | WriteError::Permission { .. } => "relation",
        WriteError::SubjectNotAllowed { .. }
            if schema.namespace_id(tuple.subject.namespace()).is_none() =>
        {
            "subject.object.namespace"
        }
        WriteError::SubjectNotAllowed { .. } => "subject",
        WriteError::UnknownCondition { .. } => "condition.name",
        WriteError::InvalidContext { .. } => "condition.context",
        WriteError::AttributesNotAllowed { part, .. } => match part {
            crate::tuple::TuplePart::Condition => "condition",
            crate::tuple::TuplePart::Expiry => "expires_at",
            _ => "subject",
        },
        WriteError::Malformed { .. } => "",
    };
    let field = if part.is_empty() {
        field.to_owned()
    } else {
        format!("{field}.{part}")
    };
    in_field(write_error(error), &field)
}

/// A `zanzi.v1` filter whose names are checked as a query's are (404 for an
/// unknown namespace or relation), naming the field.
fn typed_filter(
    schema: &Schema,
    field: &str,
    message: &pb::TupleFilter,
) -> Result<TupleFilter, ApiError> {
    let filter = convert::filter(field, message)?;
    let namespace = match &filter.namespace {
        Some(name) => Some(
            namespace_id(schema, name, Access::Read)
                .map_err(|e| in_field(e, &format!("{field}.namespace")))?,
        ),
        None => None,
    };
    if let (Some(namespace), Some(relation)) = (namespace, &filter.relation) {
        relation_id(schema, namespace, relation, Access::Read)
            .map_err(|e| in_field(e, &format!("{field}.relation")))?;
    }
    if let Some(subject) = &filter.subject {
        let subject_namespace = namespace_id(schema, subject.namespace(), Access::Read)
            .map_err(|e| in_field(e, &format!("{field}.subject.object.namespace")))?;
        if let crate::tuple::Subject::Set { relation, .. } = subject {
            relation_id(schema, subject_namespace, relation, Access::Read)
                .map_err(|e| in_field(e, &format!("{field}.subject.relation")))?;
        }
    }
    Ok(filter)
}

/// The preconditions of Keto's `TransactRelationTuplesRequest` (field 100,
/// zanzi's addition): each query read as REST reads a list query
/// ([`filter_for_query`]), an error naming the field
/// (`preconditions[1].query`).
// Called by `TransactRelationTuples` (keto.rs).
pub(super) fn keto_preconditions(
    schema: &Schema,
    preconditions: &[keto_pb::Precondition],
) -> Result<Vec<Precondition>, ApiError> {
    use keto_pb::precondition::Operation;
    preconditions
        .iter()
        .enumerate()
        .map(|(i, precondition)| {
            let field = format!("preconditions[{i}]");
            let query_field = format!("{field}.query");
            let query = precondition.query.as_ref().ok_or_else(|| {
                invalid_field(&query_field, format!("`{query_field}` is required"))
            })?;
            let filter = filter_for_query(schema, &keto_query(&query_field, query)?)
                .map_err(|e| in_field(e, &query_field))?;
            match Operation::try_from(precondition.operation) {
                Ok(Operation::MustExist) => Ok(Precondition::must_exist(filter)),
                Ok(Operation::MustNotExist) => Ok(Precondition::must_not_exist(filter)),
                Ok(Operation::Unspecified) | Err(_) => Err(unspecified_operation(&field)),
            }
        })
        .collect()
}

/// Keto's `RelationQuery` message as its REST form.
fn keto_query(field: &str, query: &keto_pb::RelationQuery) -> Result<RelationQuery, ApiError> {
    use keto_pb::subject::Ref;
    let (subject_id, subject_set) = match query.subject.as_ref().map(|s| s.r#ref.as_ref()) {
        None => (None, None),
        Some(None) => {
            let field = format!("{field}.subject");
            return Err(invalid_field(
                &field,
                format!("`{field}` needs an `id` or a `set`"),
            ));
        }
        Some(Some(Ref::Id(id))) => (Some(id.clone()), None),
        Some(Some(Ref::Set(set))) => (
            None,
            Some(SubjectSet {
                namespace: set.namespace.clone(),
                object: set.object.clone(),
                relation: set.relation.clone(),
            }),
        ),
    };
    Ok(RelationQuery {
        namespace: query.namespace.clone(),
        object: query.object.clone(),
        relation: query.relation.clone(),
        subject_id,
        subject_set,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        let (_, compiled) = crate::compile_source(
            "t.zanzi",
            "namespace user {}\nnamespace group { relation member: user }\n\
             namespace doc { relation viewer: user | group#member }",
        );
        compiled
            .schema
            .unwrap_or_else(|| unreachable!("the test schema compiles"))
    }

    fn field(error: &ApiError) -> Option<String> {
        error
            .details
            .as_ref()
            .and_then(|d| d.get("field"))
            .and_then(|f| f.as_str())
            .map(str::to_owned)
    }

    #[test]
    fn keto_preconditions_read_queries_as_rest_does_and_name_the_field() {
        let schema = schema();
        let query =
            |namespace: &str, subject: Option<keto_pb::subject::Ref>| keto_pb::RelationQuery {
                namespace: Some(namespace.to_owned()),
                object: Some("1".to_owned()),
                relation: None,
                subject: subject.map(|r| keto_pb::Subject { r#ref: Some(r) }),
            };
        let must = keto_pb::precondition::Operation::MustExist as i32;
        let preconditions = [
            keto_pb::Precondition {
                operation: must,
                query: Some(query(
                    "doc",
                    Some(keto_pb::subject::Ref::Id("alice".into())),
                )),
            },
            keto_pb::Precondition {
                operation: keto_pb::precondition::Operation::MustNotExist as i32,
                query: Some(query(
                    "doc",
                    Some(keto_pb::subject::Ref::Set(keto_pb::SubjectSet {
                        namespace: "group".into(),
                        object: "eng".into(),
                        relation: "member".into(),
                    })),
                )),
            },
        ];
        let read = keto_preconditions(&schema, &preconditions);
        let read = read.unwrap_or_else(|e| unreachable!("{}", e.message));
        assert_eq!(read.len(), 2);
        assert_eq!(
            read.first().map(ToString::to_string).as_deref(),
            Some(
                "a live tuple matching {namespace: doc, object_id: 1, subject_id: alice in user} \
                 must exist"
            )
        );
        assert_eq!(
            read.get(1).map(ToString::to_string).as_deref(),
            Some(
                "a live tuple matching {namespace: doc, object_id: 1, subject: group:eng#member} \
                 must not exist"
            )
        );

        let [first, _] = preconditions;
        let unknown = [
            first,
            keto_pb::Precondition {
                operation: must,
                query: Some(query("dco", None)),
            },
        ];
        let error = keto_preconditions(&schema, &unknown).err();
        assert_eq!(
            error.as_ref().and_then(field).as_deref(),
            Some("preconditions[1].query")
        );
        assert!(error.is_some_and(|e| e
            .message
            .starts_with("preconditions[1].query: unknown namespace `dco`")));

        let unspecified = [keto_pb::Precondition {
            operation: 0,
            query: Some(query("doc", None)),
        }];
        let error = keto_preconditions(&schema, &unspecified).err();
        assert_eq!(
            error.as_ref().and_then(field).as_deref(),
            Some("preconditions[0].operation")
        );
    }
}
