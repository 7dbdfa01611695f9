//! The signed-in home page.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use salesflow_domain::records::User;

use super::{Chrome, Ctx, render};
use crate::AppState;
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::default().get("/", home)
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    chrome: Chrome<'a>,
    user: &'a User,
    role: &'a str,
}

async fn home(ctx: Ctx, State(_s): State<AppState>) -> Response {
    render(&HomePage { chrome: ctx.chrome("home"), user: ctx.user(), role: ctx.t.common.role(ctx.user().role) })
}
