//! The API as a client sees it: a real server on a free port, real HTTP, on every backend.

mod bad_input;
mod helpers;
mod story;
