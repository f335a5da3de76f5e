//! The filter flags `delete`, `list` and `export` share.

use crate::cli::local;
use crate::store::TupleFilter;
use crate::tuple::{Notation, Object, Subject};

/// Selects tuples; every given option must match.
#[derive(Debug, Clone, clap::Args)]
pub struct FilterArgs {
    /// Only tuples on objects of this namespace.
    #[arg(long, value_name = "NAME")]
    pub namespace: Option<String>,
    /// Only tuples on this object: `document:readme`.
    #[arg(long, value_name = "NAMESPACE:ID", conflicts_with = "namespace")]
    pub object: Option<String>,
    /// Only tuples of this relation.
    #[arg(long, value_name = "NAME")]
    pub relation: Option<String>,
    /// Only tuples with exactly this subject: `user:alice`,
    /// `group:eng#member` or `user:*`.
    #[arg(long, value_name = "SUBJECT")]
    pub subject: Option<String>,
}

impl FilterArgs {
    pub(super) fn is_empty(&self) -> bool {
        self.namespace.is_none()
            && self.object.is_none()
            && self.relation.is_none()
            && self.subject.is_none()
    }

    pub(super) fn to_filter(&self) -> miette::Result<TupleFilter> {
        let object = self
            .object
            .as_deref()
            .map(|text| {
                text.parse::<Object>()
                    .map_err(|e| local::notation_error(Notation::Object, text, &e))
            })
            .transpose()?;
        let subject = self
            .subject
            .as_deref()
            .map(|text| {
                text.parse::<Subject>()
                    .map_err(|e| local::notation_error(Notation::Subject, text, &e))
            })
            .transpose()?;
        let (namespace, object_id) = match object {
            Some(object) => (Some(object.namespace), Some(object.id)),
            None => (self.namespace.clone(), None),
        };
        Ok(TupleFilter {
            namespace,
            object_id,
            relation: self.relation.clone(),
            subject,
            subject_object_in: None,
        })
    }
}
