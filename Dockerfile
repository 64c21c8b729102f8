# Multi-stage build of the scaikey binary.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p scaikey

FROM debian:bookworm-slim
RUN useradd --system --home /var/lib/scaikey scaikey && mkdir -p /var/lib/scaikey && chown scaikey /var/lib/scaikey
COPY --from=build /src/target/release/scaikey /usr/local/bin/scaikey
USER scaikey
WORKDIR /var/lib/scaikey
EXPOSE 8080
ENTRYPOINT ["scaikey"]
CMD ["serve"]
