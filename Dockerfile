# Multi-stage build: compile the server and the browser bundle, then ship
# only the binary and the static site on a slim Debian.
FROM rust:1.95-bookworm AS build
RUN rustup target add wasm32-unknown-unknown \
 && cargo install wasm-bindgen-cli --version 0.2.130 --locked
WORKDIR /src
COPY . .
ENV CARGO_TARGET_DIR=/src/target
RUN cargo build --locked -p web --lib --target wasm32-unknown-unknown --no-default-features --features hydrate --release \
 && wasm-bindgen --target web --out-dir /site/pkg --out-name web --no-typescript \
      target/wasm32-unknown-unknown/release/web.wasm \
 && cp -r assets/. /site/ \
 && cargo build --locked -p server --release --bin gatehouse

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/gatehouse --create-home gatehouse
COPY --from=build /src/target/release/gatehouse /usr/local/bin/gatehouse
COPY --from=build /site /usr/share/gatehouse/site
ENV GATEHOUSE_ADDR=0.0.0.0:8080 \
    GATEHOUSE_SITE_ROOT=/usr/share/gatehouse/site \
    GATEHOUSE_DATA_DIR=/var/lib/gatehouse \
    GATEHOUSE_LOG_FORMAT=json
USER gatehouse
EXPOSE 8080
ENTRYPOINT ["gatehouse"]
CMD ["serve"]
