# Multi-stage build of the scaikey binary.
FROM rust:1.95-bookworm AS build
# SAML signatures are verified by libxmlsec1 (samael binds it with bindgen, hence libclang).
RUN apt-get update && apt-get install -y --no-install-recommends libxmlsec1-dev libclang-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release -p scaikey

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libxmlsec1-openssl libxml2 libxslt1.1 libssl3 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --home /var/lib/scaikey scaikey && mkdir -p /var/lib/scaikey && chown scaikey /var/lib/scaikey
COPY --from=build /src/target/release/scaikey /usr/local/bin/scaikey
USER scaikey
WORKDIR /var/lib/scaikey
EXPOSE 8080
ENTRYPOINT ["scaikey"]
CMD ["serve"]
