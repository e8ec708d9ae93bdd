//! Snapshot settings (placeholder).
