//! Styles, scripts and vendored libraries, compiled into the binary: pages load nothing from
//! elsewhere. Each vendored library keeps its version and licence beside it in `static/vendor/`.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// (path under /static/, content type, bytes).
const FILES: &[(&str, &str, &[u8])] = &[
    ("css/common.css", "text/css; charset=utf-8", include_bytes!("../../static/css/common.css")),
    ("css/crm.css", "text/css; charset=utf-8", include_bytes!("../../static/css/crm.css")),
    ("css/board.css", "text/css; charset=utf-8", include_bytes!("../../static/css/board.css")),
    ("css/deal.css", "text/css; charset=utf-8", include_bytes!("../../static/css/deal.css")),
    ("css/editor.css", "text/css; charset=utf-8", include_bytes!("../../static/css/editor.css")),
    ("css/quote.css", "text/css; charset=utf-8", include_bytes!("../../static/css/quote.css")),
    ("css/analytics.css", "text/css; charset=utf-8", include_bytes!("../../static/css/analytics.css")),
    ("js/common.js", "text/javascript; charset=utf-8", include_bytes!("../../static/js/common.js")),
    ("js/crm.js", "text/javascript; charset=utf-8", include_bytes!("../../static/js/crm.js")),
    ("js/board.js", "text/javascript; charset=utf-8", include_bytes!("../../static/js/board.js")),
    ("js/deal.js", "text/javascript; charset=utf-8", include_bytes!("../../static/js/deal.js")),
    ("js/editor.js", "text/javascript; charset=utf-8", include_bytes!("../../static/js/editor.js")),
    ("js/analytics.js", "text/javascript; charset=utf-8", include_bytes!("../../static/js/analytics.js")),
    (
        "vendor/htmx/htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/vendor/htmx/htmx.min.js"),
    ),
    ("vendor/htmx/LICENSE", "text/plain; charset=utf-8", include_bytes!("../../static/vendor/htmx/LICENSE")),
    ("vendor/htmx/VERSION", "text/plain; charset=utf-8", include_bytes!("../../static/vendor/htmx/VERSION")),
    (
        "vendor/drawflow/drawflow.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/vendor/drawflow/drawflow.min.js"),
    ),
    (
        "vendor/drawflow/drawflow.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/vendor/drawflow/drawflow.min.css"),
    ),
    ("vendor/drawflow/LICENSE", "text/plain; charset=utf-8", include_bytes!("../../static/vendor/drawflow/LICENSE")),
    ("vendor/drawflow/VERSION", "text/plain; charset=utf-8", include_bytes!("../../static/vendor/drawflow/VERSION")),
    (
        "vendor/echarts/echarts.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/vendor/echarts/echarts.min.js"),
    ),
    ("vendor/echarts/LICENSE", "text/plain; charset=utf-8", include_bytes!("../../static/vendor/echarts/LICENSE")),
    (
        "vendor/echarts/LICENSE-d3",
        "text/plain; charset=utf-8",
        include_bytes!("../../static/vendor/echarts/LICENSE-d3"),
    ),
    ("vendor/echarts/NOTICE", "text/plain; charset=utf-8", include_bytes!("../../static/vendor/echarts/NOTICE")),
    ("vendor/echarts/VERSION", "text/plain; charset=utf-8", include_bytes!("../../static/vendor/echarts/VERSION")),
];

pub async fn serve(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(path, _, _)| *path == file) {
        Some((_, kind, bytes)) => {
            ([(header::CONTENT_TYPE, *kind), (header::CACHE_CONTROL, "public, max-age=3600")], *bytes).into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_file_in_static_is_served() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
        let mut on_disk = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    on_disk.push(path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/"));
                }
            }
        }
        for file in on_disk {
            assert!(super::FILES.iter().any(|(p, _, _)| *p == file), "static/{file} is not in assets::FILES");
        }
    }
}
