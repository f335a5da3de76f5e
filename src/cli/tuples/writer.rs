//! Writing exported tuples in zanzi's notation or a peer's format, a tuple
//! at a time (the JSON formats open their list first and close it last).

use std::io::Write;

use super::reader::TupleFormat;
use crate::api::keto::subjects::tuple_to_keto_typed;
use crate::tuple::foreign::{self, OPENFGA_CSV_HEADER};
use crate::tuple::Tuple;

/// The concrete shape of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Lines,
    SpiceDb,
    OpenFgaJson,
    OpenFgaYaml,
    OpenFgaJsonl,
    OpenFgaCsv,
    KetoJson,
}

/// Why a tuple was not written.
#[derive(Debug)]
pub enum WriteFailure {
    Io(std::io::Error),
    /// The format cannot hold the tuple.
    Unrepresentable(String),
}

impl From<std::io::Error> for WriteFailure {
    fn from(error: std::io::Error) -> WriteFailure {
        WriteFailure::Io(error)
    }
}

pub struct TupleWriter {
    shape: Shape,
    written: u64,
}

impl TupleWriter {
    /// A writer of `format`; OpenFGA's variant is chosen by the output
    /// file's extension (`.yaml`/`.yml`, `.jsonl`, `.csv`; JSON otherwise).
    pub fn new(format: TupleFormat, output: Option<&std::path::Path>) -> TupleWriter {
        let extension = output
            .and_then(|p| p.extension())
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let shape = match format {
            TupleFormat::Zanzi => Shape::Lines,
            TupleFormat::Spicedb => Shape::SpiceDb,
            TupleFormat::KetoJson => Shape::KetoJson,
            TupleFormat::Openfga => match extension.as_str() {
                "yaml" | "yml" => Shape::OpenFgaYaml,
                "jsonl" => Shape::OpenFgaJsonl,
                "csv" => Shape::OpenFgaCsv,
                _ => Shape::OpenFgaJson,
            },
        };
        TupleWriter { shape, written: 0 }
    }

    /// Writes one tuple.
    pub fn write(&mut self, out: &mut impl Write, tuple: &Tuple) -> Result<(), WriteFailure> {
        let first = self.written == 0;
        self.written += 1;
        let json = |value: &dyn erased::Json| value.to_json();
        match self.shape {
            Shape::Lines => writeln!(out, "{tuple}")?,
            Shape::SpiceDb => writeln!(out, "{}", foreign::to_spicedb(tuple))?,
            Shape::OpenFgaJson | Shape::OpenFgaJsonl => {
                let key = foreign::to_openfga(tuple).map_err(WriteFailure::Unrepresentable)?;
                let text = json(&key);
                if self.shape == Shape::OpenFgaJsonl {
                    writeln!(out, "{text}")?;
                } else {
                    write!(out, "{}\n  {text}", if first { "[" } else { "," })?;
                }
            }
            Shape::OpenFgaYaml => {
                let key = foreign::to_openfga(tuple).map_err(WriteFailure::Unrepresentable)?;
                // JSON strings are YAML double-quoted scalars.
                let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
                writeln!(
                    out,
                    "- user: {}\n  relation: {}\n  object: {}",
                    quote(&key.user),
                    quote(&key.relation),
                    quote(&key.object)
                )?;
                if let Some(condition) = &key.condition {
                    // A JSON object is a YAML flow mapping.
                    writeln!(out, "  condition: {}", json(condition))?;
                }
            }
            Shape::OpenFgaCsv => {
                let row = foreign::to_openfga_csv(tuple).map_err(WriteFailure::Unrepresentable)?;
                if first {
                    writeln!(out, "{OPENFGA_CSV_HEADER}")?;
                }
                writeln!(out, "{row}")?;
            }
            Shape::KetoJson => {
                let relationship = tuple_to_keto_typed(tuple);
                let text = json(&relationship);
                write!(out, "{}\n  {text}", if first { "[" } else { "," })?;
            }
        }
        Ok(())
    }

    /// Closes what the format opened (an empty list when nothing was written).
    pub fn finish(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        match self.shape {
            Shape::OpenFgaJson | Shape::KetoJson => {
                if self.written == 0 {
                    writeln!(out, "[]")
                } else {
                    writeln!(out, "\n]")
                }
            }
            Shape::OpenFgaCsv if self.written == 0 => writeln!(out, "{OPENFGA_CSV_HEADER}"),
            Shape::OpenFgaYaml if self.written == 0 => writeln!(out, "[]"),
            _ => Ok(()),
        }
    }
}

/// Serializing the two record types without naming serde in every arm.
mod erased {
    pub trait Json {
        fn to_json(&self) -> String;
    }

    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}
