//! The API as a client sees it: a real server on a free port, real HTTP, on every backend.

mod access;
mod analytics;
mod bad_input;
mod board;
mod crm_pages;
mod deal_page;
mod flowchart;
mod helpers;
mod selling;
mod selling_pages;
mod sessions;
mod story;
mod versions;
