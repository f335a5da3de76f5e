//! Listing a page at a time. Every backend numbers its tuple versions in the
//! order of writing (a *sequence number* that survives compaction and
//! restarts) and lists in that order; a cursor is the sequence number of
//! the next page's first version, so pages stay stable while writes go on.

use serde::{Deserialize, Serialize};

use super::StoreError;

/// One page of a listing: at most `limit` items after `cursor` (an opaque
/// token from the previous page; `None` for the first page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    pub cursor: Option<String>,
    pub limit: usize,
}

impl PageRequest {
    pub fn first(limit: usize) -> PageRequest {
        PageRequest {
            cursor: None,
            limit,
        }
    }

    /// The sequence number the page starts at (0 for the first page).
    pub fn start(&self) -> Result<u64, StoreError> {
        match &self.cursor {
            None => Ok(0),
            Some(cursor) => cursor
                .parse::<u64>()
                .map_err(|_| StoreError::InvalidCursor(cursor.clone())),
        }
    }
}

/// A page of results; `next_cursor` is `None` on the last page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn empty() -> Page<T> {
        Page {
            items: Vec::new(),
            next_cursor: None,
        }
    }
}

/// Fills a page from versions offered in sequence order: a backend offers
/// one more than the limit when it can, and that one becomes the cursor.
#[derive(Debug)]
pub struct PageBuilder<T> {
    limit: usize,
    page: Page<T>,
}

impl<T> PageBuilder<T> {
    pub fn new(limit: usize) -> PageBuilder<T> {
        PageBuilder {
            limit,
            page: Page::empty(),
        }
    }

    /// Offers the version numbered `seq`; `item` makes it only when it
    /// fits. Returns false once the page is full (and its cursor set).
    pub fn offer(
        &mut self,
        seq: u64,
        item: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<bool, StoreError> {
        if self.page.items.len() == self.limit {
            // There is at least one more: the next page starts at it.
            self.page.next_cursor = Some(seq.to_string());
            return Ok(false);
        }
        self.page.items.push(item()?);
        Ok(true)
    }

    pub fn finish(self) -> Page<T> {
        self.page
    }
}
