//! `zanzi lookup-resources` and `zanzi lookup-subjects`: which objects a
//! subject reaches, and which subjects reach an object.
//!
//! Both are paged by an opaque token (`--cursor`) that also pins the
//! revision of the first page, so that a listing taken page by page is one
//! consistent snapshot even while others write.

use std::process::ExitCode;

use serde::Serialize;

use super::check::{engine_error, DepthArgs};
use super::local::{self, AtArgs, DbArgs, LocalPageToken, ReportFormat, SchemaArgs, JSON_VERSION};
use super::ColorMode;
use crate::engine::{Engine, EngineOptions};
use crate::store::{PageRequest, Revision};
use crate::tuple::{encode_id, parse_object_relation, Notation, Subject};

/// `--limit` and `--cursor`.
#[derive(Debug, Clone, clap::Args)]
pub struct PageArgs {
    /// Return at most N results, and a cursor for the next page when there
    /// are more. Default: every result.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
    /// Continue after the page that printed this cursor.
    #[arg(long, value_name = "CURSOR")]
    pub cursor: Option<String>,
}

impl PageArgs {
    fn token(&self) -> miette::Result<Option<LocalPageToken>> {
        self.cursor
            .as_deref()
            .map(LocalPageToken::decode)
            .transpose()
    }

    fn limit(&self) -> usize {
        self.limit
            .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX))
    }
}

#[derive(Debug, clap::Args)]
pub struct ResourcesArgs {
    /// The namespace of the objects to find: `document`.
    pub namespace: String,
    /// The relation or permission they must grant: `view`.
    pub permission: String,
    /// The subject: `user:alice`, or a subject set `group:eng#member`.
    pub subject: String,
    #[command(flatten)]
    pub page: PageArgs,
    #[command(flatten)]
    pub depth: DepthArgs,
    #[command(flatten)]
    pub at: AtArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub schema: SchemaArgs,
    /// How to print the results.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

/// The `--format json` document of `zanzi lookup-resources`.
#[derive(Serialize)]
struct ResourcesReport<'a> {
    version: u32,
    namespace: &'a str,
    permission: &'a str,
    subject: &'a str,
    revision: Revision,
    /// Raw IDs (not percent-encoded), sorted.
    resource_ids: &'a [String],
    next_cursor: Option<String>,
}

pub fn run_resources(args: &ResourcesArgs, color: ColorMode) -> miette::Result<ExitCode> {
    let subject: Subject = args
        .subject
        .parse()
        .map_err(|e| local::notation_error(Notation::Subject, &args.subject, &e))?;
    let token = args.page.token()?;
    let db = &args.db.db;
    let store = local::open_existing(db)?;
    let resolved = local::resolve_schema(&*store, db, args.schema.schema.as_deref(), false, color)?;
    let at = local::read_revision(&*store, db, args.at.at, token.as_ref())?;
    let engine = Engine::new(&resolved.schema, &*store).with_options(EngineOptions {
        max_depth: args.depth.max_depth,
    });
    let request = PageRequest {
        cursor: token.map(|t| t.position),
        limit: args.page.limit(),
    };
    let page = engine
        .lookup_resources(&args.namespace, &args.permission, &subject, &request, at)
        .map_err(engine_error)?;
    let next_cursor = page.next_cursor.map(|position| {
        LocalPageToken {
            revision: at,
            position,
        }
        .encode()
    });
    match args.format {
        ReportFormat::Json => local::print_json(&ResourcesReport {
            version: JSON_VERSION,
            namespace: &args.namespace,
            permission: &args.permission,
            subject: &subject.to_string(),
            revision: at,
            resource_ids: &page.items,
            next_cursor,
        })?,
        ReportFormat::Human => {
            let text: String = page
                .items
                .iter()
                .map(|id| format!("{}:{}\n", args.namespace, encode_id(id)))
                .collect();
            local::print(&text)?;
            if let Some(cursor) = next_cursor {
                eprintln!("more results: --cursor {cursor}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub struct SubjectsArgs {
    /// The object and permission: `document:readme#view`.
    #[arg(value_name = "OBJECT#PERMISSION")]
    pub userset: String,
    /// The namespace of the subjects to find: `user`.
    pub subject_namespace: String,
    #[command(flatten)]
    pub page: PageArgs,
    #[command(flatten)]
    pub depth: DepthArgs,
    #[command(flatten)]
    pub at: AtArgs,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub schema: SchemaArgs,
    /// How to print the results.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

/// The `--format json` document of `zanzi lookup-subjects`.
#[derive(Serialize)]
struct SubjectsReport<'a> {
    version: u32,
    object: &'a str,
    permission: &'a str,
    subject_namespace: &'a str,
    revision: Revision,
    /// Raw IDs of the subjects named by tuples that are in the set, sorted.
    subject_ids: &'a [String],
    /// Every subject of the namespace is in the set, except `excluded`.
    wildcard: bool,
    /// With `wildcard`: raw IDs of the subjects that are not in the set.
    excluded: &'a [String],
    next_cursor: Option<String>,
}

pub fn run_subjects(args: &SubjectsArgs, color: ColorMode) -> miette::Result<ExitCode> {
    let (object, permission) = parse_object_relation(&args.userset)
        .map_err(|e| local::notation_error(Notation::Userset, &args.userset, &e))?;
    let token = args.page.token()?;
    let db = &args.db.db;
    let store = local::open_existing(db)?;
    let resolved = local::resolve_schema(&*store, db, args.schema.schema.as_deref(), false, color)?;
    let at = local::read_revision(&*store, db, args.at.at, token.as_ref())?;
    let engine = Engine::new(&resolved.schema, &*store).with_options(EngineOptions {
        max_depth: args.depth.max_depth,
    });
    let found = engine
        .lookup_subjects(&object, &permission, &args.subject_namespace, at)
        .map_err(engine_error)?;
    // The engine answers in full, sorted by ID; pages are cut from that.
    let after = token.as_ref().map(|t| t.position.as_str());
    let mut rest = found
        .subject_ids
        .iter()
        .filter(|id| after.is_none_or(|after| id.as_str() > after));
    let limit = args.page.limit();
    let ids: Vec<String> = rest.by_ref().take(limit).cloned().collect();
    let next_cursor = match (rest.next(), ids.last()) {
        (Some(_), Some(last)) => Some(
            LocalPageToken {
                revision: at,
                position: last.clone(),
            }
            .encode(),
        ),
        _ => None,
    };
    let ns = &args.subject_namespace;
    match args.format {
        ReportFormat::Json => local::print_json(&SubjectsReport {
            version: JSON_VERSION,
            object: &object.to_string(),
            permission: &permission,
            subject_namespace: ns,
            revision: at,
            subject_ids: &ids,
            wildcard: found.wildcard,
            excluded: &found.excluded,
            next_cursor,
        })?,
        ReportFormat::Human => {
            let mut text = String::new();
            if found.wildcard && token.is_none() {
                text.push_str(&format!("{ns}:*"));
                if !found.excluded.is_empty() {
                    let excluded: Vec<String> = found
                        .excluded
                        .iter()
                        .map(|id| format!("{ns}:{}", encode_id(id)))
                        .collect();
                    text.push_str(&format!(" (except {})", excluded.join(", ")));
                }
                text.push('\n');
            }
            for id in &ids {
                text.push_str(&format!("{ns}:{}\n", encode_id(id)));
            }
            local::print(&text)?;
            if let Some(cursor) = next_cursor {
                eprintln!("more results: --cursor {cursor}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
