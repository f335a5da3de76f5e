//! `zanzi check` and `zanzi expand`: questions about one object, answered
//! from the local database.
//!
//! `check` answers in its exit status (0 allowed, 1 denied) so that shell
//! scripts can branch on it; anything that prevents an answer, the depth
//! limit included, is 2 and a message, never a silent "denied".

use std::process::ExitCode;

use miette::miette;
use serde::Serialize;

use super::local::{self, AtArgs, DbArgs, ReportFormat, SchemaArgs, JSON_VERSION};
use super::ColorMode;
use crate::engine::{
    Decision, Engine, EngineError, EngineOptions, ExpandTree, Explanation, Outcome, RequestContext,
    DEFAULT_MAX_DEPTH, MAX_MAX_DEPTH,
};
use crate::store::Revision;
use crate::tuple::{parse_object_relation, Expiry, Notation, Tuple};

/// `--max-depth`.
#[derive(Debug, Clone, clap::Args)]
pub struct DepthArgs {
    /// The most hops through tuples (subject sets and arrows) one answer may
    /// take, at most 512. Exceeding it is an error, never a silent deny.
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_MAX_DEPTH,
        value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_MAX_DEPTH)),
    )]
    pub max_depth: u32,
}

/// What a question carries besides its names: values for conditions'
/// parameters, contextual tuples and the read time.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RequestArgs {
    /// Values for conditions' parameters, as a JSON object:
    /// `--condition-context '{"client_ip": "10.1.2.3"}'`. A tuple's stored
    /// value for a parameter wins over this one. (`--context` names a CLI
    /// context, see `zanzi context`.)
    #[arg(long = "condition-context", value_name = "JSON")]
    pub condition_context: Option<String>,
    /// A tuple that holds for this question only (repeatable), validated
    /// against the schema like a write, never stored.
    #[arg(long = "contextual-tuple", value_name = "TUPLE")]
    pub contextual_tuples: Vec<String>,
    /// The read time that decides which tuples have expired (RFC 3339);
    /// the clock by default.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
}

impl RequestArgs {
    /// The `--condition-context` object (empty when not given).
    pub fn context(&self) -> miette::Result<serde_json::Map<String, serde_json::Value>> {
        match &self.condition_context {
            None => Ok(serde_json::Map::new()),
            Some(text) => match serde_json::from_str::<serde_json::Value>(text) {
                Ok(serde_json::Value::Object(map)) => Ok(map),
                Ok(_) => Err(miette!(
                    "--condition-context must be a JSON object, like '{{\"ip\": \"10.0.0.1\"}}'"
                )),
                Err(e) => Err(miette!("--condition-context is not valid JSON: {e}")),
            },
        }
    }

    /// The `--contextual-tuple`s, parsed (not yet checked against a schema).
    pub fn tuples(&self) -> miette::Result<Vec<Tuple>> {
        self.contextual_tuples
            .iter()
            .map(|text| {
                text.parse()
                    .map_err(|e| local::notation_error(Notation::Tuple, text, &e))
            })
            .collect()
    }

    /// The read options of a remote question: these, sent to the server,
    /// which validates the tuples against its schema. `--now` is refused:
    /// a server decides expiry by its own clock.
    pub fn remote_options(
        &self,
        remote: &super::remote::RemoteArgs,
        max_depth: Option<u32>,
    ) -> miette::Result<crate::client::ReadOptions> {
        if self.now.is_some() {
            return Err(miette!(
                help = "ask the local database (--db) to choose the read time",
                "--now cannot be sent to a server: it decides expiry by its own clock"
            ));
        }
        Ok(crate::client::ReadOptions {
            context: self.context()?,
            contextual_tuples: self.tuples()?,
            ..remote.options(max_depth)
        })
    }

    /// The request, its tuples validated against `schema`.
    pub fn request(&self, schema: &crate::ir::Schema) -> miette::Result<RequestContext> {
        let context = self.context()?;
        let mut tuples = Vec::new();
        for (text, tuple) in self.contextual_tuples.iter().zip(self.tuples()?) {
            crate::tuple::validate_tuple(schema, &tuple)
                .map_err(|e| miette!("--contextual-tuple `{text}`: {e}"))?;
            tuples.push(tuple);
        }
        let now = match &self.now {
            None => None,
            Some(text) => Some(Expiry::parse(text).map_err(|e| miette!("--now: {e}"))?),
        };
        Ok(RequestContext {
            context,
            now,
            tuples,
        })
    }
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The question, in the tuple notation: `document:readme#view@user:alice`.
    /// The subject may be a subject set (`group:eng#member`).
    #[arg(value_name = "OBJECT#PERMISSION@SUBJECT")]
    pub question: String,
    /// Print the derivation that grants access, or why each branch failed.
    #[arg(long)]
    pub explain: bool,
    #[command(flatten)]
    pub request: RequestArgs,
    #[command(flatten)]
    pub depth: DepthArgs,
    #[command(flatten)]
    pub at: AtArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub schema: SchemaArgs,
    /// How to print the answer.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub remote: super::remote::RemoteArgs,
}

/// The `--format json` document of `zanzi check`.
#[derive(Serialize)]
struct CheckReport<'a> {
    version: u32,
    check: &'a str,
    /// `allowed`, `denied`, `conditional` or `error`.
    result: &'static str,
    /// `null` when there is no answer; `false` when conditional.
    allowed: Option<bool>,
    /// With `conditional`: the parameters that had no value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    missing: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    revision: Revision,
    schema: &'a str,
    max_depth: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<&'a Explanation>,
}

/// An engine error as a report, with advice for the depth limit.
pub fn engine_error(error: EngineError) -> miette::Report {
    match error {
        EngineError::DepthExceeded { max_depth, .. } => depth_error(error.to_string(), max_depth),
        other => miette!("{other}"),
    }
}

fn depth_error(message: String, max_depth: u32) -> miette::Report {
    miette!(
        help = format!(
            "the answer needs more than {max_depth} hops through tuples; raise the limit with \
             --max-depth (at most {MAX_MAX_DEPTH}), or look for an unexpectedly long chain in \
             the data"
        ),
        "{message}"
    )
}

pub fn run(args: &CheckArgs, color: ColorMode) -> miette::Result<ExitCode> {
    if args.remote.is_remote()? {
        if args.at.at.is_some() {
            return Err(super::remote::at_with_remote());
        }
        let options = args
            .request
            .remote_options(&args.remote, Some(args.depth.max_depth))?;
        return super::remote::check(
            &args.remote,
            &args.question,
            options,
            args.explain,
            args.format,
        );
    }
    let question: Tuple = args
        .question
        .parse()
        .map_err(|e| local::notation_error(Notation::Check, &args.question, &e))?;
    if !question.is_plain() {
        return Err(miette!(
            help = "give the parameters' values with --context, and the time with --now",
            "a question carries no condition or expiry: `{}`",
            args.question
        ));
    }
    let db = &args.db.db;
    let store = local::open_existing(db)?;
    let resolved = local::resolve_schema(&*store, db, args.schema.schema.as_deref(), false, color)?;
    let schema = &resolved.schema;
    let at = local::read_revision(&*store, db, args.at.at, None)?;
    let request = args.request.request(schema)?;
    let engine = Engine::new(schema, &*store)
        .with_options(EngineOptions {
            max_depth: args.depth.max_depth,
        })
        .with_request(&request);
    let max_depth = engine.options().max_depth;
    let (object, relation, subject) = (&question.object, &question.relation, &question.subject);
    let mut explanation = None;
    let answer: Result<Decision, miette::Report> = if args.explain {
        match engine.explain(object, relation, subject, at) {
            Ok(explained) => {
                let answer = match explained.outcome {
                    Outcome::Granted => Ok(Decision::Allowed),
                    Outcome::Denied => Ok(Decision::Denied),
                    Outcome::Conditional => Ok(Decision::Conditional {
                        missing: explained.missing.clone(),
                    }),
                    Outcome::Unknown => Err(depth_error(
                        explained.error.clone().unwrap_or_default(),
                        max_depth,
                    )),
                };
                explanation = Some(explained);
                answer
            }
            Err(error) => Err(engine_error(error)),
        }
    } else {
        engine
            .decide(object, relation, subject, at)
            .map_err(engine_error)
    };
    let missing = match &answer {
        Ok(Decision::Conditional { missing }) => missing.clone(),
        _ => Vec::new(),
    };
    match args.format {
        ReportFormat::Json => local::print_json(&CheckReport {
            version: JSON_VERSION,
            check: &question.to_string(),
            result: match &answer {
                Ok(Decision::Allowed) => "allowed",
                Ok(Decision::Denied) => "denied",
                Ok(Decision::Conditional { .. }) => "conditional",
                Err(_) => "error",
            },
            allowed: answer.as_ref().ok().map(Decision::is_allowed),
            missing: missing.clone(),
            error: answer.as_ref().err().map(ToString::to_string),
            revision: at,
            schema: &schema.hash,
            max_depth,
            explanation: explanation.as_ref(),
        })?,
        ReportFormat::Human => match (&explanation, &answer) {
            (Some(explanation), _) => local::print(&explanation.render())?,
            (None, Ok(Decision::Allowed)) => local::print("allowed\n")?,
            (None, Ok(Decision::Denied)) => local::print("denied\n")?,
            (None, Ok(Decision::Conditional { missing })) => {
                local::print(&format!("conditional (missing {})\n", missing.join(", ")))?;
            }
            (None, Err(_)) => {}
        },
    }
    exit_code(answer)
}

/// 0 allowed, 1 denied, 3 conditional (the context lacked parameters);
/// 2, through the error, when there is no answer.
pub fn exit_code(answer: Result<Decision, miette::Report>) -> miette::Result<ExitCode> {
    match answer {
        Ok(Decision::Allowed) => Ok(ExitCode::SUCCESS),
        Ok(Decision::Denied) => Ok(ExitCode::from(1)),
        Ok(Decision::Conditional { .. }) => Ok(ExitCode::from(3)),
        Err(report) => Err(report),
    }
}

#[derive(Debug, clap::Args)]
pub struct ExpandArgs {
    /// The userset to expand: `document:readme#view`.
    #[arg(value_name = "OBJECT#RELATION")]
    pub userset: String,
    /// Follow subject sets and arrows this many hops; deeper parts are shown
    /// as truncated.
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_MAX_DEPTH,
        value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_MAX_DEPTH)),
    )]
    pub max_depth: u32,
    #[command(flatten)]
    pub at: AtArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub schema: SchemaArgs,
    /// How to print the tree.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub remote: super::remote::RemoteArgs,
}

/// The `--format json` document of `zanzi expand`.
#[derive(Serialize)]
struct ExpandReport<'a> {
    version: u32,
    userset: &'a str,
    revision: Revision,
    max_depth: u32,
    tree: &'a ExpandTree,
}

pub fn run_expand(args: &ExpandArgs, color: ColorMode) -> miette::Result<ExitCode> {
    if args.remote.is_remote()? {
        if args.at.at.is_some() {
            return Err(super::remote::at_with_remote());
        }
        return super::remote::expand(
            &args.remote,
            &args.userset,
            Some(args.max_depth),
            args.format,
        );
    }
    let (object, relation) = parse_object_relation(&args.userset)
        .map_err(|e| local::notation_error(Notation::Userset, &args.userset, &e))?;
    let db = &args.db.db;
    let store = local::open_existing(db)?;
    let resolved = local::resolve_schema(&*store, db, args.schema.schema.as_deref(), false, color)?;
    let at = local::read_revision(&*store, db, args.at.at, None)?;
    let engine = Engine::new(&resolved.schema, &*store);
    let tree = engine
        .expand(&object, &relation, args.max_depth, at)
        .map_err(engine_error)?;
    match args.format {
        ReportFormat::Human => local::print(&tree.render())?,
        ReportFormat::Json => local::print_json(&ExpandReport {
            version: JSON_VERSION,
            userset: &format!("{object}#{relation}"),
            revision: at,
            max_depth: args.max_depth,
            tree: &tree,
        })?,
    }
    Ok(ExitCode::SUCCESS)
}
