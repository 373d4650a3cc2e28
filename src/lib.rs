//! kdrender: KubeDirector apps and clusters in, Kubernetes objects out, offline and byte-identical.
//!
//! The pipeline, one module per step (see ARCHITECTURE.md):
//!
//! ```text
//! PATH ─load─▶ Inputs ─validate─▶ Model ─resolve─▶ Topology ─render─▶ Objects ─hash─▶ ─emit─▶ YAML
//!       (files, spans)   (typed, defaulted)  (names, FQDNs)   (as data)   (rollout)  (sorted)
//! ```
//!
//! [`pipeline`] runs the steps; [`commands`] are the front-ends built on it (`render`,
//! `validate`, `schema`, `diff`, `fn`, `argocd`); [`cli`] parses the command line into
//! [`options`] and dispatches to a command. The library never prints: a command returns an
//! [`Outcome`] (stdout, stderr, exit code), and `main` writes it.

#![forbid(unsafe_code)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod adopt;
pub mod argocd;
mod beneath;
pub mod cli;
pub mod commands;
pub mod diag;
pub mod diff;
pub mod document;
pub mod emit;
pub mod exit;
pub mod hash;
pub mod krm;
pub mod kube_version;
pub mod load;
pub mod model;
pub mod names;
pub mod options;
pub mod output_dir;
mod parallel;
pub mod patch;
pub mod pipeline;
pub mod quantity;
pub mod raw;
pub mod render;
pub mod resolve;
pub mod source;
pub mod spool;
pub mod validate;
pub mod visible;

pub use commands::{Outcome, Text};
pub use pipeline::{Failure, Rendered, Stream, render_objects, render_stream};
