# A minimal image of cmk-check: the static musl binary on a distroless base, as a non-root user.
#   docker build -t cmk-check .
#   docker run --rm -v "$PWD:/work" -w /work cmk-check check --template main.json --offline
FROM rust:1-alpine AS build
# A C toolchain, CMake and Perl for aws-lc (rustls's cryptography); Alpine's Rust links musl
# statically. Not pinned: Alpine drops superseded package versions from its mirrors, so a pin
# breaks the build.
# hadolint ignore=DL3018
RUN apk add --no-cache build-base cmake perl
WORKDIR /src
COPY . .
RUN cargo build --release --locked \
    && cp target/release/cmk-check /cmk-check

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /cmk-check /usr/local/bin/cmk-check
# distroless's `nonroot`, by number: a name may not resolve on the host.
USER 65532:65532
ENTRYPOINT ["cmk-check"]
