//! Fixture web server (being written).
