//! Page tokens of local listings.

use miette::miette;

use crate::store::Revision;

/// A page token: the revision of the first page (so that every page reads
/// the same snapshot) and the position after the last item returned. Shown
/// to users as `REVISION.HEX`, opaque and safe to pass in a shell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalPageToken {
    pub revision: Revision,
    pub position: String,
}

impl LocalPageToken {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.revision, hex_text(&self.position))
    }

    pub fn decode(token: &str) -> miette::Result<LocalPageToken> {
        let invalid = || {
            miette!(
                help = "pass the token exactly as the previous page printed it",
                "invalid page token `{token}`"
            )
        };
        let (revision, hex) = token.split_once('.').ok_or_else(invalid)?;
        let revision = revision.parse().map_err(|_| invalid())?;
        let position = text_of_hex(hex).ok_or_else(invalid)?;
        Ok(LocalPageToken {
            revision: Revision(revision),
            position,
        })
    }
}

/// A cursor's position as lowercase hex: opaque, and safe in a shell.
pub fn hex_text(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The text [`hex_text`] encoded; `None` for anything else.
pub fn text_of_hex(hex: &str) -> Option<String> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}
