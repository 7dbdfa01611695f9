//! The route table: every route is added through [`Routes`], which builds the axum router and
//! remembers each (method, path) it was given. Tests read the same table to check a policy
//! for every route the router actually has.

use std::collections::BTreeMap;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::MethodRouter;

use crate::AppState;

#[derive(Default)]
pub struct Routes {
    paths: BTreeMap<&'static str, MethodRouter<AppState>>,
    entries: Vec<(Method, &'static str)>,
}

macro_rules! verb {
    ($name:ident, $method:expr) => {
        pub fn $name<H: Handler<T, AppState>, T: 'static>(mut self, path: &'static str, handler: H) -> Self {
            let mr = self.paths.remove(path).unwrap_or_default();
            self.paths.insert(path, mr.$name(handler));
            self.entries.push(($method, path));
            self
        }
    };
}

impl Routes {
    verb!(get, Method::GET);
    verb!(post, Method::POST);
    verb!(put, Method::PUT);
    verb!(patch, Method::PATCH);
    verb!(delete, Method::DELETE);

    /// Records a route served by a router built elsewhere (the vendored docs page).
    pub fn external(mut self, method: Method, path: &'static str) -> Self {
        self.entries.push((method, path));
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        for (path, mr) in other.paths {
            let mine = self.paths.remove(path).unwrap_or_default();
            self.paths.insert(path, mine.merge(mr));
        }
        self.entries.extend(other.entries);
        self
    }

    pub fn entries(&self) -> &[(Method, &'static str)] {
        &self.entries
    }

    pub fn into_router(self) -> Router<AppState> {
        self.paths.into_iter().fold(Router::new(), |r, (path, mr)| r.route(path, mr))
    }
}
