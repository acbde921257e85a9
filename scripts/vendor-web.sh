#!/usr/bin/env bash
# Refresh the front-end files the web pages serve from the package (no CDN, no Node at run time).
#
#   scripts/vendor-web.sh                      # the versions named in the README
#   scripts/vendor-web.sh HTMX SSE PICO        # others, e.g. 2.0.11 2.2.4 2.1.1
#
# Fetches htmx.org, htmx-ext-sse and @picocss/pico from the npm registry with `npm pack` and
# copies each one's minified file and licence into src/botarena/web/static/vendor/.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
target="$here/src/botarena/web/static/vendor"
readme="$target/README.md"
pinned() { sed -n "s#^- $1 ##p" "$readme"; }
htmx="${1:-$(pinned htmx.org)}"
sse="${2:-$(pinned htmx-ext-sse)}"
pico="${3:-$(pinned @picocss/pico)}"
if [[ -z "$htmx" || -z "$sse" || -z "$pico" ]]; then
    echo "versions missing: give them or list them in $readme" >&2
    exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# unpack NAME VERSION: the package's files under $work/NAME-VERSION/package/
unpack() {
    local dir="$work/${1//\//_}-$2"
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "$1@$2" >/dev/null && tar -xzf ./*.tgz)
    echo "$dir/package"
}

package="$(unpack htmx.org "$htmx")"
cp "$package/dist/htmx.min.js" "$target/htmx.min.js"
cp "$package/LICENSE" "$target/htmx.LICENSE"

package="$(unpack htmx-ext-sse "$sse")"
if [[ -f "$package/dist/sse.min.js" ]]; then
    cp "$package/dist/sse.min.js" "$target/sse.min.js"
else
    cp "$package/dist/sse.js" "$target/sse.min.js"
fi
# The extension ships without a licence file of its own; its package names htmx's (0BSD).
if [[ -f "$package/LICENSE" ]]; then
    cp "$package/LICENSE" "$target/sse.LICENSE"
else
    cp "$target/htmx.LICENSE" "$target/sse.LICENSE"
fi

package="$(unpack @picocss/pico "$pico")"
cp "$package/css/pico.min.css" "$target/pico.min.css"
cp "$package/LICENSE.md" "$target/pico.LICENSE.md"

# The files name source maps that are not shipped.
sed -i '/^\/\/# sourceMappingURL=/d' "$target/htmx.min.js" "$target/sse.min.js"
sed -i 's#/\*\# sourceMappingURL=[^*]*\*/##' "$target/pico.min.css"
sed -i -e "s/^- htmx.org .*/- htmx.org $htmx/" -e "s/^- htmx-ext-sse .*/- htmx-ext-sse $sse/" \
    -e "s#^- @picocss/pico .*#- @picocss/pico $pico#" "$readme"
echo "htmx.org $htmx, htmx-ext-sse $sse, @picocss/pico $pico copied into $target"
