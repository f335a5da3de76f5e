//! The `zanzi` command line.
