# tokentrip proxy in a container: a static binary on a distroless base, run as a
# non-root user.
#
#   docker build -t tokentrip .
#   docker run --rm -p 127.0.0.1:8787:8787 \
#       -e TOKENTRIP_PROVIDER=mcv2 -e TOKENTRIP_SUBDOMAIN=mc563885gzs27c5t9-63k636tzgm \
#       -e TOKENTRIP_CLIENT_ID -e TOKENTRIP_CLIENT_SECRET tokentrip
#
# Every setting is a TOKENTRIP_ variable (see the README's configuration reference);
# other commands run as "docker run --rm tokentrip version".

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO off: a static binary that needs no libc. The revision is stamped when the
# build context holds the repository's .git directory.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/tokentrip ./cmd/tokentrip

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tokentrip /usr/local/bin/tokentrip
USER nonroot:nonroot
# Inside the container the proxy listens on every interface, which the published
# port reaches; the JSON log suits log collectors. Clients that reach the proxy by a
# name (a compose service, a Kubernetes Service) need it in TOKENTRIP_ALLOWED_HOSTS,
# and so do clients of a port published under another number (-p 9000:8787 makes
# their Host 127.0.0.1:9000 or localhost:9000).
ENV TOKENTRIP_LISTEN=0.0.0.0:8787 \
    TOKENTRIP_LOG_FORMAT=json
EXPOSE 8787
ENTRYPOINT ["/usr/local/bin/tokentrip"]
CMD ["proxy", "--allow-remote"]
