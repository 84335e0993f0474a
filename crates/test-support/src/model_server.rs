//! Scripted model server (being written).
