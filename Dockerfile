# bchpay: build with the Rust toolchain, run on a slim Debian as a non-root user.
#   docker build -t bchpay .
#   docker run -p 8080:8080 -v bchpay-data:/var/lib/bchpay \
#     -e BCHPAY_API_KEYS=... -e BCHPAY_RPC_PASSWORD=... bchpay
# The configuration is deploy/config.toml (mount another at /etc/bchpay/config.toml);
# secrets come from the environment. See README.md, "Deploying".

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked --bin bchpay

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system bchpay \
    && useradd --system --gid bchpay --home-dir /var/lib/bchpay --shell /usr/sbin/nologin bchpay \
    && mkdir -p /var/lib/bchpay /etc/bchpay \
    && chown bchpay:bchpay /var/lib/bchpay
COPY --from=builder /src/target/release/bchpay /usr/local/bin/bchpay
COPY deploy/config.toml /etc/bchpay/config.toml
USER bchpay
WORKDIR /var/lib/bchpay
# The sled store (invoices, the address pool, the webhook outbox): keep it.
VOLUME ["/var/lib/bchpay"]
EXPOSE 8080
# Exec form: SIGTERM from `docker stop` reaches bchpay, which flushes the store and exits 0.
ENTRYPOINT ["/usr/local/bin/bchpay"]
CMD ["serve", "--config", "/etc/bchpay/config.toml"]
