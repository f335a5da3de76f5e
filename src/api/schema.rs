//! The OpenAPI schemas of values the wire types' derived schemas cannot
//! state by themselves: what the server refuses in an ID, a name, a depth
//! or a consistency choice. The wire types point at these
//! (`#[schema(schema_with = …)]`), so that the document allows exactly
//! what the server accepts.

use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::RefOr;

use crate::tuple::MAX_ID_BYTES;

/// No control character (Unicode's `Cc`: what `char::is_control` finds),
/// which no ID may hold.
pub const NO_CONTROL_CHARACTERS: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$";

fn nullable(schema: impl Into<RefOr<Schema>>) -> Schema {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .item(schema)
        .build()
        .into()
}

/// An object ID: 1 to 1024 bytes (the maximum length is in characters,
/// which is looser for text beyond ASCII), no control characters.
pub fn id() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_ID_BYTES))
        .pattern(Some(NO_CONTROL_CHARACTERS))
        .build()
        .into()
}

/// A subject ID (`alice`, `user:alice`): not empty, no control characters.
pub fn subject_id() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .pattern(Some(NO_CONTROL_CHARACTERS))
        .build()
        .into()
}

/// An optional subject ID.
pub fn optional_subject_id() -> Schema {
    nullable(subject_id())
}

/// A namespace, relation or permission name the schema must know: never
/// empty.
pub fn name() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .build()
        .into()
}

/// A `max_depth`: 0 (or absent) is the server's limit, a larger one may
/// only lower it, a negative one is refused.
pub fn optional_depth() -> Schema {
    nullable(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Int64,
            )))
            .minimum(Some(0_i64))
            .maximum(Some(i64::MAX)),
    )
}

/// A `consistency` choice (docs/api.md): one of [`super::CONSISTENCY_NAMES`].
pub fn consistency() -> Schema {
    // The server reads an empty value as no value (the default), as
    // `?consistency=` from a form or a script with an unset variable sends.
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(super::CONSISTENCY_NAMES.iter().copied().chain([""])))
        .description(Some("empty: the default, as when absent"))
        .build()
        .into()
}

/// An optional `consistency`.
pub fn optional_consistency() -> Schema {
    nullable(consistency())
}
