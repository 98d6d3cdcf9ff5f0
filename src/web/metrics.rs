//! Prometheus metrics, served at `/metrics` on their own address (`--metrics-bind`), never
//! on the site's: requests by route pattern, method and status, their latency by route,
//! the database pool, open live-comment streams and the page cache.
//!
//! # Cost per request
//!
//! Labels are `&'static str`s and a status number: counting a request hashes them and
//! bumps atomics under a read lock; nothing is allocated once a series exists. The route
//! is the pattern of the route table (`/articles/{slug}`), never the requested path, so
//! the series stay bounded: each resource is named by its pattern (see `routes`), and
//! the router's match is looked up by name, which for a routed request is an index
//! lookup (actix keeps the matched resource's position). Only a response that never
//! reached the router (a cached page, a refusal by the security middleware) has its
//! path matched again, still without allocating. Paths no route matches count under
//! `(none)`, and a request that ends in an error instead of a response under
//! `(refused)`.
//!
//! The pool, stream and cache figures are read when scraped.

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::AppState;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    method: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

/// Upper bounds of the latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The metrics of one running site.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
}

/// What is read when scraped: the pool, the queue in front of it, the live streams and
/// the page cache.
struct Gauges {
    pool: crate::db::DbPool,
    gate: Arc<super::DbGate>,
    live: Arc<super::live::Hub>,
    cache: Arc<super::cache::PageCache>,
    pool_size: u32,
}

impl std::fmt::Debug for Gauges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gauges").finish_non_exhaustive()
    }
}

fn gauge(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: i64) -> std::fmt::Result {
    let metric = ConstGauge::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

fn counter(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: u64) -> std::fmt::Result {
    let metric = ConstCounter::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

impl Collector for Gauges {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let pool = self.pool.state();
        let (open, idle) = (i64::from(pool.connections), i64::from(pool.idle_connections));
        gauge(&mut encoder, "afterword_db_connections_in_use", "Pooled database connections in use", open - idle)?;
        gauge(&mut encoder, "afterword_db_connections_idle", "Pooled database connections open and idle", idle)?;
        gauge(
            &mut encoder,
            "afterword_db_connections_max",
            "Largest number of pooled connections",
            self.pool_size.into(),
        )?;
        gauge(
            &mut encoder,
            "afterword_db_waiting",
            "Requests waiting for a database connection (or, on SQLite, for the write turn)",
            i64::try_from(self.gate.waiting()).unwrap_or(i64::MAX),
        )?;
        counter(
            &mut encoder,
            "afterword_db_connection_checks",
            "Checkouts that first asked their connection whether it is still open (a round trip)",
            self.gate.health.checks(),
        )?;
        gauge(
            &mut encoder,
            "afterword_live_streams",
            "Open live-comment streams (Server-Sent Events)",
            i64::try_from(self.live.watchers()).unwrap_or(i64::MAX),
        )?;
        let (through_links, through_listener) = self.live.syncs();
        counter(
            &mut encoder,
            "afterword_cache_syncs_through_links",
            "Signed-in reads and writes synced with the other instances through their worker thread's own connection",
            through_links,
        )?;
        counter(
            &mut encoder,
            "afterword_cache_syncs_through_listener",
            "Signed-in reads and writes synced with the other instances through the instance's listener",
            through_listener,
        )?;
        let (hits, misses) = self.cache.hits_and_misses();
        counter(&mut encoder, "afterword_page_cache_hits", "Anonymous pages sent from the page cache", hits)?;
        counter(
            &mut encoder,
            "afterword_page_cache_misses",
            "Cacheable anonymous pages that had to be rendered",
            misses,
        )?;
        let (entries, bytes) = self.cache.usage();
        gauge(&mut encoder, "afterword_page_cache_entries", "Pages in the page cache", entries as i64)?;
        gauge(&mut encoder, "afterword_page_cache_bytes", "Bytes the page cache holds", bytes as i64)?;
        Ok(())
    }
}

impl Metrics {
    /// The metrics of a site with these parts (read when scraped).
    pub fn new(
        pool: crate::db::DbPool,
        gate: Arc<super::DbGate>,
        live: Arc<super::live::Hub>,
        cache: Arc<super::cache::PageCache>,
        pool_size: u32,
    ) -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "afterword_http_requests",
            "HTTP requests answered, by route pattern, method and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "afterword_http_request_duration_seconds",
            "Time from a request's arrival to its response's head, by route pattern",
            latency.clone(),
        );
        registry.register_collector(Box::new(Gauges { pool, gate, live, cache, pool_size }));
        Metrics { registry, requests, latency }
    }

    fn observe(&self, route: &'static str, method: &'static str, status: u16, started: Instant) {
        self.requests.get_or_create(&RequestLabels { route, method, status }).inc();
        self.latency.get_or_create(&RouteLabels { route }).observe(started.elapsed().as_secs_f64());
    }

    /// Everything, in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
            .expect("writing to a String does not fail");
        out
    }
}

/// The route pattern, from the route table, that the request matched.
fn route_pattern(req: &actix_web::HttpRequest) -> &'static str {
    use std::collections::HashSet;
    use std::sync::OnceLock;
    static PATTERNS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| super::routes::ROUTES.iter().map(|r| r.path).collect());
    req.match_name().and_then(|name| patterns.get(name).copied()).unwrap_or("(none)")
}

/// The middleware: counts every response of the site by route, method and status, and
/// its latency. Without `--metrics-bind` it only passes the request on.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = req.app_data::<web::Data<AppState>>().and_then(|s| s.metrics.clone());
    let Some(metrics) = metrics else {
        return next.call(req).await;
    };
    let started = Instant::now();
    let method = match *req.method() {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        _ => "other",
    };
    let result = next.call(req).await;
    match &result {
        Ok(res) => {
            metrics.observe(route_pattern(res.request()), method, res.status().as_u16(), started);
        }
        Err(err) => metrics.observe("(refused)", method, err.as_response_error().status_code().as_u16(), started),
    }
    result
}

/// GET /metrics (on the metrics address).
pub async fn scrape(state: web::Data<AppState>) -> HttpResponse {
    match &state.metrics {
        Some(metrics) => {
            HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(metrics.render())
        }
        None => HttpResponse::NotFound().finish(),
    }
}
