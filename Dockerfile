# Build: the release binary, with the rustc src/code-order.txt was
# written with (its function names carry the compiler's version).
FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY .cargo ./.cargo
COPY src ./src
COPY migrations ./migrations
COPY static ./static
COPY demo ./demo
RUN cargo build --release --locked --bin afterword

# Run: a slim Debian with only what the binary links (OpenSSL, for PostgreSQL and SMTP)
# and curl for the health check.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin afterword \
 && mkdir -p /data && chown afterword:afterword /data
COPY --from=build /src/target/release/afterword /usr/local/bin/afterword
USER afterword
WORKDIR /data
VOLUME ["/data"]
ENV DATABASE_URL=sqlite:///data/afterword.db \
    AFTERWORD_BIND=0.0.0.0:8080 \
    RUST_LOG=info
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["afterword"]
CMD ["serve"]
