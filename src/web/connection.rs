//! Connection-level limits the HTTP library does not have: a write timeout (a client
//! that stops reading is disconnected), a deadline for request bodies, and a cap on
//! the open connections of one client address.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

use super::AppState;

/// Open connections per client address, with a cap. Trusted proxies are not capped:
/// many clients share their address.
pub struct ConnectionLimit {
    per_address: usize,
    exempt: Vec<IpAddr>,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl ConnectionLimit {
    pub fn new(per_address: usize, exempt: Vec<IpAddr>) -> Arc<Self> {
        Arc::new(ConnectionLimit { per_address, exempt, open: Mutex::new(HashMap::new()) })
    }

    /// A slot for one more connection from `ip`, or `None` when it has its share.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<ConnectionSlot> {
        if self.exempt.contains(&ip) {
            return Some(ConnectionSlot { limit: None, ip });
        }
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(ip).or_insert(0);
        if *count >= self.per_address {
            return None;
        }
        *count += 1;
        Some(ConnectionSlot { limit: Some(self.clone()), ip })
    }

    /// How many connections `ip` has open.
    pub fn open(&self, ip: IpAddr) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).get(&ip).copied().unwrap_or(0)
    }
}

/// One admitted connection; gives its place back when dropped.
pub struct ConnectionSlot {
    limit: Option<Arc<ConnectionLimit>>,
    ip: IpAddr,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let Some(limit) = &self.limit else { return };
        let mut open = limit.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// A client connection whose writes fail once the client has not taken any data for
/// `write_timeout`: the connection then closes and the response it pinned is freed.
pub struct GuardedStream {
    io: TcpStream,
    write_timeout: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
    _slot: Option<ConnectionSlot>,
}

impl GuardedStream {
    pub fn new(io: TcpStream, write_timeout: Duration, slot: Option<ConnectionSlot>) -> Self {
        GuardedStream { io, write_timeout, stalled: None, _slot: slot }
    }

    /// Called when a write could not proceed: pending until the timeout, then an error.
    fn stall<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let timeout = self.write_timeout;
        let sleep = self.stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client did not read the response in time",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn progress<T>(&mut self, result: Poll<io::Result<T>>, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        match result {
            Poll::Ready(r) => {
                self.stalled = None;
                Poll::Ready(r)
            }
            Poll::Pending => self.stall(cx),
        }
    }
}

impl AsyncRead for GuardedStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.io).poll_write(cx, buf);
        self.progress(result, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.progress(result, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.io).poll_flush(cx);
        self.progress(result, cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.io).poll_shutdown(cx);
        self.progress(result, cx)
    }
}

/// A request body must arrive completely within `Config::body_timeout` of the request:
/// past it, reading the body fails, and the answer is 408 and the connection closes.
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let timeout = req.app_data::<web::Data<AppState>>().expect("AppState is registered").config.body_timeout;
    let deadline = tokio::time::Instant::now() + timeout;
    let tripped = Arc::new(AtomicBool::new(false));
    let flag = tripped.clone();
    let payload = req.take_payload();
    let stream = futures_util::stream::unfold(Some(payload), move |state| {
        let flag = flag.clone();
        async move {
            let mut payload = state?;
            match tokio::time::timeout_at(deadline, payload.next()).await {
                Ok(Some(item)) => Some((item, Some(payload))),
                Ok(None) => None,
                Err(_) => {
                    flag.store(true, Ordering::Relaxed);
                    let err = io::Error::new(io::ErrorKind::TimedOut, "the request body did not arrive in time");
                    Some((Err(PayloadError::Io(err)), None))
                }
            }
        }
    })
    // Readers may poll again after the end (multipart does): it stays ended.
    .fuse();
    req.set_payload(Payload::Stream { payload: Box::pin(stream) });
    let res = next.call(req).await?.map_into_boxed_body();
    if !tripped.load(Ordering::Relaxed) {
        return Ok(res);
    }
    let mut response = HttpResponse::RequestTimeout()
        .content_type("text/plain; charset=utf-8")
        .body(format!("The request body did not arrive within {} s.", timeout.as_secs()));
    response.head_mut().set_connection_type(ConnectionType::Close);
    Ok(res.into_response(response))
}
