//! The operations of the OpenAPI document, one entry per method and path:
//! where each is served, its query parameters and what their values may be,
//! its body, and its own answers ([`super::document_for`] adds the errors
//! every request may meet).

/// Which listener serves an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listener {
    Read,
    Write,
    Metrics,
    Syntax,
    /// Every listener.
    All,
}

/// A query parameter's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// A namespace or relation name the schema must know: not empty.
    Name,
    /// An ID in a question: 1 to 1024 bytes, no control characters.
    Id,
    /// A subject ID in a question: not empty, no control characters.
    SubjectId,
    /// Any text (a filter's value matches what it matches; a token).
    Text,
    /// `max-depth`: 0 is the server's limit, more may only lower it.
    Depth,
    /// `page_size`: 0 is the server's default, at most its maximum.
    PageSize,
    /// One of the consistency names.
    Consistency,
}

/// One query parameter.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub required: bool,
    pub value: Value,
}

const fn optional(name: &'static str, value: Value) -> Param {
    Param {
        name,
        required: false,
        value,
    }
}

const fn required(name: &'static str, value: Value) -> Param {
    Param {
        name,
        required: true,
        value,
    }
}

/// What an operation reads from its request body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    None,
    /// JSON of this schema; other media types are refused (415).
    Json(&'static str),
    /// Text, of any media type, possibly empty.
    Text,
}

/// One operation.
#[derive(Clone, Copy, Debug)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub listener: Listener,
    pub operation_id: &'static str,
    pub summary: &'static str,
    pub query: &'static [Param],
    pub body: Body,
    /// Status, description, schema of the answer (`text` for plain
    /// text); the errors every request may meet are added by
    /// [`document`].
    pub responses: &'static [(u16, &'static str, Option<&'static str>)],
}

/// A request context over its limit (REST only: gRPC's is INVALID_ARGUMENT).
const CONTEXT_TOO_LARGE: (u16, &str, Option<&str>) = (413, "the context exceeds 64 KiB of JSON", E);
/// A contextual tuple the schema refuses, as a write would be.
const CONTEXTUAL_TUPLE_REFUSED: (u16, &str, Option<&str>) =
    (422, "a contextual tuple the schema refuses", E);

const RELATION_QUERY: &[Param] = &[
    required("namespace", Value::Name),
    optional("object", Value::Text),
    optional("relation", Value::Text),
    optional("subject_id", Value::Text),
    optional("subject_set.namespace", Value::Text),
    optional("subject_set.object", Value::Text),
    optional("subject_set.relation", Value::Text),
];
const CHECK_QUERY: &[Param] = &[
    required("namespace", Value::Name),
    required("object", Value::Id),
    required("relation", Value::Name),
    optional("subject_id", Value::SubjectId),
    optional("subject_set.namespace", Value::Name),
    optional("subject_set.object", Value::Id),
    optional("subject_set.relation", Value::Text),
    optional("max-depth", Value::Depth),
    optional("consistency", Value::Consistency),
    optional("snaptoken", Value::Text),
    // JSON-encoded: an object of parameter values, an array of relationships.
    optional("context", Value::Text),
    optional("contextual_tuples", Value::Text),
];
const LIST_QUERY: &[Param] = &[
    optional("namespace", Value::Name),
    optional("object", Value::Text),
    optional("relation", Value::Text),
    optional("subject_id", Value::Text),
    optional("subject_set.namespace", Value::Text),
    optional("subject_set.object", Value::Text),
    optional("subject_set.relation", Value::Text),
    optional("page_size", Value::PageSize),
    optional("page_token", Value::Text),
    optional("consistency", Value::Consistency),
    optional("snaptoken", Value::Text),
];
const READ_OPTIONS: &[Param] = &[
    optional("max-depth", Value::Depth),
    optional("consistency", Value::Consistency),
    optional("snaptoken", Value::Text),
];
pub(super) const E: Option<&str> = Some("ErrorGeneric");
/// An evaluation that ran past the request's deadline.
const DEADLINE: (u16, &str, Option<&str>) = (504, "the evaluation ran past the deadline", E);

/// Every endpoint.
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "GET",
        path: "/relation-tuples",
        listener: Listener::Read,
        operation_id: "getRelationships",
        summary: "List relationships matching a query, a page at a time",
        query: LIST_QUERY,
        body: Body::None,
        responses: &[
            (200, "a page of relationships", Some("Relationships")),
            (400, "bad query or token", E),
            (404, "unknown namespace or relation", E),
        ],
    },
    Endpoint {
        method: "GET",
        path: "/relation-tuples/check",
        listener: Listener::Read,
        operation_id: "checkPermissionOrError",
        summary: "Check a permission: 200 when allowed, 403 when denied",
        query: CHECK_QUERY,
        body: Body::None,
        responses: &[
            (200, "allowed", Some("CheckResult")),
            (
                403,
                "denied, or conditional (`conditional` says on what)",
                Some("CheckResult"),
            ),
            (400, "bad request, or the depth limit was hit", E),
            (404, "unknown namespace or relation", E),
            DEADLINE,
            CONTEXT_TOO_LARGE,
            CONTEXTUAL_TUPLE_REFUSED,
        ],
    },
    Endpoint {
        method: "POST",
        path: "/relation-tuples/check",
        listener: Listener::Read,
        operation_id: "postCheckPermissionOrError",
        summary: "Check a permission (body): 200 when allowed, 403 when denied",
        query: READ_OPTIONS,
        body: Body::Json("CheckBody"),
        responses: &[
            (200, "allowed", Some("CheckResult")),
            (
                403,
                "denied, or conditional (`conditional` says on what)",
                Some("CheckResult"),
            ),
            (400, "bad request, or the depth limit was hit", E),
            (404, "unknown namespace or relation", E),
            DEADLINE,
            CONTEXT_TOO_LARGE,
            CONTEXTUAL_TUPLE_REFUSED,
        ],
    },
    Endpoint {
        method: "GET",
        path: "/relation-tuples/check/openapi",
        listener: Listener::Read,
        operation_id: "checkPermission",
        summary: "Check a permission: always 200 with `allowed`",
        query: CHECK_QUERY,
        body: Body::None,
        responses: &[
            (200, "the answer", Some("CheckResult")),
            (400, "bad request, or the depth limit was hit", E),
            (404, "unknown namespace or relation", E),
            DEADLINE,
            CONTEXT_TOO_LARGE,
            CONTEXTUAL_TUPLE_REFUSED,
        ],
    },
    Endpoint {
        method: "POST",
        path: "/relation-tuples/check/openapi",
        listener: Listener::Read,
        operation_id: "postCheckPermission",
        summary: "Check a permission (body): always 200 with `allowed`",
        query: READ_OPTIONS,
        body: Body::Json("CheckBody"),
        responses: &[
            (200, "the answer", Some("CheckResult")),
            (400, "bad request, or the depth limit was hit", E),
            (404, "unknown namespace or relation", E),
            DEADLINE,
            CONTEXT_TOO_LARGE,
            CONTEXTUAL_TUPLE_REFUSED,
        ],
    },
    Endpoint {
        method: "POST",
        path: "/relation-tuples/batch/check",
        listener: Listener::Read,
        operation_id: "batchCheckPermission",
        summary: "Check many permissions at one snapshot; a bad tuple gets its own error",
        query: READ_OPTIONS,
        body: Body::Json("BatchCheckBody"),
        responses: &[
            (200, "one answer per tuple", Some("BatchCheckResult")),
            (400, "bad request", E),
            DEADLINE,
            CONTEXT_TOO_LARGE,
            CONTEXTUAL_TUPLE_REFUSED,
        ],
    },
    Endpoint {
        method: "GET",
        path: "/relation-tuples/expand",
        listener: Listener::Read,
        operation_id: "expandPermissions",
        summary: "Expand a userset into its tree",
        query: &[
            required("namespace", Value::Name),
            required("object", Value::Text),
            required("relation", Value::Name),
            optional("max-depth", Value::Depth),
            optional("consistency", Value::Consistency),
            optional("snaptoken", Value::Text),
        ],
        body: Body::None,
        responses: &[
            (200, "the tree", Some("ExpandedTree")),
            (400, "bad request", E),
            (404, "unknown namespace or relation", E),
            (422, "the tree would pass `max_expand_nodes`", E),
            DEADLINE,
        ],
    },
    Endpoint {
        method: "GET",
        path: "/namespaces",
        listener: Listener::Read,
        operation_id: "listRelationshipNamespaces",
        summary: "List the namespaces of the schema",
        query: &[],
        body: Body::None,
        responses: &[(200, "the namespaces", Some("Namespaces"))],
    },
    Endpoint {
        method: "POST",
        path: "/zanzi/v1/lookup-resources",
        listener: Listener::Read,
        operation_id: "lookupResources",
        summary: "The objects of a namespace whose relation or permission holds a subject",
        query: &[],
        body: Body::Json("LookupResourcesBody"),
        responses: &[
            (200, "a page of object ids", Some("LookupResourcesResult")),
            (400, "bad request", E),
            (404, "unknown name", E),
            DEADLINE,
            CONTEXT_TOO_LARGE,
            CONTEXTUAL_TUPLE_REFUSED,
        ],
    },
    Endpoint {
        method: "POST",
        path: "/zanzi/v1/lookup-subjects",
        listener: Listener::Read,
        operation_id: "lookupSubjects",
        summary: "The object subjects of a namespace in a userset",
        query: &[],
        body: Body::Json("LookupSubjectsBody"),
        responses: &[
            (200, "the subjects", Some("LookupSubjectsResult")),
            (400, "bad request", E),
            (404, "unknown name", E),
            (422, "the answer would pass `max_lookup_results`", E),
            DEADLINE,
            CONTEXT_TOO_LARGE,
            CONTEXTUAL_TUPLE_REFUSED,
        ],
    },
    Endpoint {
        method: "POST",
        path: "/zanzi/v1/expand",
        listener: Listener::Read,
        operation_id: "expandUserset",
        summary:
            "zanzi's expand tree of a userset: permissions, rewrites, arrows and stored subjects",
        query: &[],
        body: Body::Json("ExpandBody"),
        responses: &[
            (200, "the tree", Some("ExpandResult")),
            (400, "bad request", E),
            (404, "unknown name", E),
            (422, "the tree would pass `max_expand_nodes`", E),
            DEADLINE,
            CONTEXT_TOO_LARGE,
            CONTEXTUAL_TUPLE_REFUSED,
        ],
    },
    Endpoint {
        method: "POST",
        path: "/zanzi/v1/check",
        listener: Listener::Read,
        operation_id: "zanziCheck",
        summary: "A check answered allowed, denied or conditional (with the missing parameters)",
        query: &[],
        body: Body::Json("ZanziCheckBody"),
        responses: &[
            (200, "the decision", Some("ZanziCheckResult")),
            (
                400,
                "bad request, a condition failed, or the depth limit was hit",
                E,
            ),
            (404, "unknown name", E),
            CONTEXT_TOO_LARGE,
            CONTEXTUAL_TUPLE_REFUSED,
            DEADLINE,
        ],
    },
    Endpoint {
        method: "POST",
        path: "/zanzi/v1/check/explain",
        listener: Listener::Read,
        operation_id: "explainCheck",
        summary: "A check with the derivation that grants it, or why every branch failed",
        query: &[],
        body: Body::Json("ExplainBody"),
        responses: &[
            (200, "the explanation", Some("ExplainResult")),
            (400, "bad request", E),
            (404, "unknown name", E),
            DEADLINE,
            CONTEXT_TOO_LARGE,
            CONTEXTUAL_TUPLE_REFUSED,
        ],
    },
    Endpoint {
        method: "GET",
        path: "/zanzi/v1/schema",
        listener: Listener::Read,
        operation_id: "getSchema",
        summary: "The compiled schema (IR) and its hash",
        query: &[],
        body: Body::None,
        responses: &[(200, "the IR", Some("SchemaResult"))],
    },
    Endpoint {
        method: "GET",
        path: "/zanzi/v1/status",
        listener: Listener::Read,
        operation_id: "getStatus",
        summary:
            "Which server answers: its version, database (store id and location) and schema hash",
        query: &[],
        body: Body::None,
        responses: &[(200, "the status", Some("StatusResult"))],
    },
    Endpoint {
        method: "GET",
        path: "/openapi.json",
        listener: Listener::Read,
        operation_id: "getOpenApi",
        summary: "This document",
        query: &[],
        body: Body::None,
        responses: &[(200, "the OpenAPI document", Some("OpenApiDocument"))],
    },
    Endpoint {
        method: "PUT",
        path: "/admin/relation-tuples",
        listener: Listener::Write,
        operation_id: "createRelationship",
        summary: "Create a relationship (idempotent); answers with the payload",
        query: &[],
        body: Body::Json("Relationship"),
        responses: &[
            (
                201,
                "created (the payload, plus `snaptoken`)",
                Some("CreatedRelationship"),
            ),
            (400, "malformed", E),
            (422, "rejected by the schema", E),
        ],
    },
    Endpoint {
        method: "DELETE",
        path: "/admin/relation-tuples",
        listener: Listener::Write,
        operation_id: "deleteRelationships",
        summary: "Delete every relationship matching a query (`namespace` required, no body)",
        query: RELATION_QUERY,
        body: Body::None,
        responses: &[
            (204, "deleted", None),
            (400, "bad query, or a request body", E),
            (404, "unknown namespace or relation", E),
        ],
    },
    Endpoint {
        method: "PATCH",
        path: "/admin/relation-tuples",
        listener: Listener::Write,
        operation_id: "patchRelationships",
        summary: "Insert and delete relationships in one transaction",
        query: &[],
        body: Body::Json("PatchBody"),
        responses: &[
            (204, "applied", None),
            (400, "malformed", E),
            (
                404,
                "a precondition names an unknown namespace or relation",
                E,
            ),
            (409, "a precondition does not hold; nothing was written", E),
            (422, "rejected by the schema", E),
        ],
    },
    Endpoint {
        method: "GET",
        path: "/metrics/prometheus",
        listener: Listener::Metrics,
        operation_id: "getMetrics",
        summary: "Prometheus metrics",
        query: &[],
        body: Body::None,
        responses: &[(200, "metrics in the Prometheus text format", Some("text"))],
    },
    Endpoint {
        method: "POST",
        path: "/opl/syntax/check",
        listener: Listener::Syntax,
        operation_id: "checkOplSyntax",
        summary: "Check zanzi schema source; errors carry zanzi's diagnostic codes",
        query: &[],
        body: Body::Text,
        responses: &[
            (
                200,
                "the diagnostics (none when clean)",
                Some("SyntaxCheckResult"),
            ),
            (400, "the body is not UTF-8", E),
        ],
    },
    Endpoint {
        method: "GET",
        path: "/health/alive",
        listener: Listener::All,
        operation_id: "isAlive",
        summary: "Whether the process is up",
        query: &[],
        body: Body::None,
        responses: &[(200, "alive", Some("HealthStatus"))],
    },
    Endpoint {
        method: "GET",
        path: "/health/ready",
        listener: Listener::All,
        operation_id: "isReady",
        summary: "Whether the server can answer (the store responds, not shutting down)",
        query: &[],
        body: Body::None,
        responses: &[
            (200, "ready", Some("HealthStatus")),
            (
                503,
                "not ready (or too many requests in flight)",
                Some("NotReady"),
            ),
        ],
    },
    Endpoint {
        method: "GET",
        path: "/version",
        listener: Listener::All,
        operation_id: "getVersion",
        summary: "The server's version, and `server: zanzi`",
        query: &[],
        body: Body::None,
        responses: &[(200, "the version", Some("Version"))],
    },
];
