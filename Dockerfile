# Davenport container image: a static binary on distroless, running as non-root.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t davenport .
#   docker run -p 127.0.0.1:8008:8008 -v davenport-data:/data davenport
#
# Without further configuration the server uses the embedded store in the /data
# volume. Set DAVENPORT_DATABASE=postgres://… to use PostgreSQL (docker-compose.yml
# does). The final image has no shell, so it carries no HEALTHCHECK: probe
# GET /healthz from outside (200 when the database answers, 503 when not).

# The Go minor version is pinned; patch releases are picked up on rebuild.
FROM golang:1.26-bookworm AS build
WORKDIR /src

# Dependencies first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .
# The .git directory is not in the build context (see .dockerignore), so the
# version comes in as a build argument; `make image` and compose pass it.
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/davenport ./cmd/davenport \
 && mkdir -p /out/data

# distroless/static has CA certificates and time zone data, no shell, no libc.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/davenport /davenport
# An empty /data owned by the nonroot user (65532): Docker copies this ownership
# into a named volume when it is first mounted, so the embedded store can write.
COPY --from=build --chown=65532:65532 /out/data /data
ENV DAVENPORT_DATABASE=/data/davenport.db
# Tells Davenport it runs in this image, so the first run names the command
# that works from the host (docker exec …) and shows localhost, not the
# container's host name. docker-compose.yml sets it to "compose".
ENV DAVENPORT_CONTAINER=docker
USER 65532:65532
EXPOSE 8008
VOLUME /data
ENTRYPOINT ["/davenport"]
CMD ["serve"]
