#!/usr/bin/env bash
# Refresh the Swagger UI files that /docs serves from the package (no CDN at run time).
#
#   scripts/vendor-swagger-ui.sh [VERSION]      # default: the version named in the README
#
# Fetches swagger-ui-dist from the npm registry with `npm pack`, and copies the bundle, its
# stylesheet, the favicon and the licence files into src/botarena/api/static/swagger-ui/.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
target="$here/src/botarena/api/static/swagger-ui"
version="${1:-$(sed -n 's/^Version: //p' "$target/README.md")}"
if [[ -z "$version" ]]; then
    echo "no version given and none in $target/README.md" >&2
    exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "swagger-ui-dist@$version" >/dev/null)
tar -xzf "$work/swagger-ui-dist-$version.tgz" -C "$work"
for name in swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css \
    favicon-32x32.png LICENSE NOTICE; do
    cp "$work/package/$name" "$target/$name"
done
# The bundle names its source map; it is not shipped, so the reference goes.
sed -i '/^\/\/# sourceMappingURL=/d' "$target/swagger-ui-bundle.js"
sed -i 's#/\*\# sourceMappingURL=[^*]*\*/##' "$target/swagger-ui.css"
sed -i "s/^Version: .*/Version: $version/" "$target/README.md"
echo "swagger-ui-dist $version copied into $target"
