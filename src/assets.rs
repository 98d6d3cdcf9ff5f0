//! Static files, embedded at build time and addressed by a hash of their content, so
//! they can be cached for a year and still change with each release. Each is
//! compressed once, with brotli and gzip, when first needed (`App::build` asks at
//! start), never per request.

use std::collections::HashMap;
use std::sync::LazyLock;

use sha2::{Digest, Sha256};

pub struct Asset {
    pub content_type: &'static str,
    pub bytes: &'static [u8],
    pub brotli: Vec<u8>,
    pub gzip: Vec<u8>,
    /// `/static/NAME.HASH.EXT`
    pub url: String,
}

const FILES: &[(&str, &str, &[u8])] = &[
    ("style.css", "text/css; charset=utf-8", include_bytes!("../static/style.css")),
    ("icon.svg", "image/svg+xml", include_bytes!("../static/icon.svg")),
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../static/app.js")),
    ("embed.js", "text/javascript; charset=utf-8", include_bytes!("../static/embed.js")),
    ("embed-frame.js", "text/javascript; charset=utf-8", include_bytes!("../static/embed-frame.js")),
    ("embed-login.js", "text/javascript; charset=utf-8", include_bytes!("../static/embed-login.js")),
    ("embed.css", "text/css; charset=utf-8", include_bytes!("../static/embed.css")),
];

struct Registry {
    by_name: HashMap<&'static str, Asset>,
    /// hashed file name (the last part of the URL) → logical name
    by_file: HashMap<String, &'static str>,
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    let mut by_name = HashMap::new();
    let mut by_file = HashMap::new();
    for &(name, content_type, bytes) in FILES {
        let digest = Sha256::digest(bytes);
        let hash: String = digest[..5].iter().map(|b| format!("{b:02x}")).collect();
        let file = match name.rsplit_once('.') {
            Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
            None => format!("{name}.{hash}"),
        };
        by_file.insert(file.clone(), name);
        let asset =
            Asset { content_type, bytes, brotli: brotli(bytes), gzip: gzip(bytes), url: format!("/static/{file}") };
        by_name.insert(name, asset);
    }
    Registry { by_name, by_file }
});

/// The URL of a static file by its name in `static/`. Panics on an unknown name: the
/// names are constants in the views.
pub fn url(name: &str) -> &'static str {
    &REGISTRY.by_name.get(name).unwrap_or_else(|| panic!("no static file {name}")).url
}

/// A static file by its name in `static/`.
pub fn by_name(name: &str) -> Option<&'static Asset> {
    REGISTRY.by_name.get(name)
}

/// The file behind the last part of a static URL.
pub fn by_file(file: &str) -> Option<&'static Asset> {
    REGISTRY.by_file.get(file).map(|name| &REGISTRY.by_name[name])
}

/// Compresses every file now rather than on the first request for it.
pub fn prepare() {
    LazyLock::force(&REGISTRY);
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("compressing into memory");
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("compressing into memory");
    encoder.finish().expect("compressing into memory")
}
