//! `zanzi schema`: the schema stored in a database, which every server on
//! that database answers with. `push` replaces it (servers on a shared
//! database pick it up within a second, without a restart); `show` and
//! `history` say what is stored.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use miette::miette;
use serde::Serialize;

use super::local::{self, DbArgs, ReportFormat, JSON_VERSION};
use super::ColorMode;
use crate::server::ServeError;
use crate::store::SchemaRecord;

// Parsed once per process: the size of a variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Store a schema in the database, for every command and server on it.
    ///
    /// Refused, with nothing stored, when the schema has errors or when
    /// stored tuples would not fit it (listed; --allow-invalid-tuples
    /// stores it anyway, and those tuples are then ignored). Servers on a
    /// shared (PostgreSQL) database answer with it within a second.
    Push {
        /// The schema: `.zanzi` source (a file or a directory), compiled IR, or a
        /// Keto (`.ts`), SpiceDB (`.zed`) or OpenFGA (`.fga`, `.json`) schema.
        #[arg(value_name = "PATH")]
        schema: PathBuf,
        #[command(flatten)]
        db: DbArgs,
        /// Store it even if stored tuples do not fit it.
        #[arg(long)]
        allow_invalid_tuples: bool,
    },
    /// Print the stored schema's hash, or with --ir its compiled IR (of a
    /// server's schema with --remote).
    Show {
        #[command(flatten)]
        db: DbArgs,
        /// Print the compiled IR (JSON) instead of the hash.
        #[arg(long)]
        ir: bool,
        #[command(flatten)]
        remote: super::remote::RemoteArgs,
    },
    /// List every schema stored so far, oldest first (PostgreSQL keeps the
    /// history; SQLite only the current schema).
    History {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, value_enum, default_value_t)]
        format: ReportFormat,
    },
}

#[derive(Serialize)]
struct HistoryReport<'a> {
    version: u32,
    schemas: &'a [SchemaRecord],
}

pub fn run(command: &SchemaCommand, color: ColorMode) -> miette::Result<ExitCode> {
    match command {
        SchemaCommand::Push {
            schema,
            db,
            allow_invalid_tuples,
        } => push(schema, &db.db, *allow_invalid_tuples, color),
        SchemaCommand::Show { db, ir, remote } if remote.is_remote()? => {
            let client = remote.reader()?;
            let schema = client.schema().map_err(|e| miette!("{e}"))?;
            local::print(&if *ir {
                schema.to_json()
            } else {
                schema.hash.clone()
            })?;
            Ok(ExitCode::SUCCESS)
        }
        SchemaCommand::Show { db, ir, .. } => {
            let store = local::open_existing(&db.db)?;
            let Some(schema) = store.load_schema().map_err(local::store_err(&db.db))? else {
                return Err(miette!(
                    help = "store one with `zanzi schema push FILE`",
                    "the database `{}` has no schema",
                    local::display(&db.db)
                ));
            };
            local::print(&if *ir { schema.to_json() } else { schema.hash })?;
            Ok(ExitCode::SUCCESS)
        }
        SchemaCommand::History { db, format } => {
            let store = local::open_existing(&db.db)?;
            let history = store.schema_history().map_err(local::store_err(&db.db))?;
            match format {
                ReportFormat::Json => local::print_json(&HistoryReport {
                    version: JSON_VERSION,
                    schemas: &history,
                })?,
                ReportFormat::Human => {
                    for record in &history {
                        let revision = record
                            .revision
                            .map_or(String::new(), |r| format!(" at revision {r}"));
                        let when = record
                            .saved_at_millis
                            .map_or(String::new(), |ms| format!(", saved {}", utc(ms)));
                        local::print(&format!("{}{revision}{when}\n", record.hash))?;
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn push(
    path: &std::path::Path,
    db: &std::path::Path,
    allow_invalid_tuples: bool,
    color: ColorMode,
) -> miette::Result<ExitCode> {
    let schema = local::load_schema_file(path, color)?;
    let store = local::open_or_create(db)?;
    if !allow_invalid_tuples {
        let head = store.head_revision().map_err(local::store_err(db))?;
        match crate::server::check_stored_tuples(&schema, store.as_ref(), head) {
            Ok(()) => {}
            Err(Ok(ServeError::InvalidTuples { count, listing })) => {
                return Err(miette!(
                    help = "fix the schema, delete those tuples, or push with \
                            --allow-invalid-tuples",
                    "{count} stored tuple(s) do not fit the schema `{}`; nothing was stored:\n{}",
                    local::display(path),
                    listing.join("\n")
                ));
            }
            Err(Ok(other)) => return Err(miette!("{other}")),
            Err(Err(error)) => return Err(local::store_error(db, error)),
        }
    }
    let changed = store.save_schema(&schema).map_err(local::store_err(db))?;
    let verb = if changed { "stored" } else { "already stored" };
    local::print(&format!(
        "{verb} schema {} in `{}`",
        local::short_hash(&schema.hash),
        local::display(db)
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// Milliseconds since the Unix epoch as `YYYY-MM-DD HH:MM:SS UTC`.
fn utc(unix_millis: i64) -> String {
    let secs = unix_millis.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil algorithm (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn utc_formats_dates_across_eras_and_leap_days() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_796_083_199_999), "2026-11-30 23:59:59 UTC");
        assert_eq!(utc(-1_000), "1969-12-31 23:59:59 UTC");
    }
}
