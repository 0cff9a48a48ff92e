"""Escapes HTML with MarkupSafe and greets with a C++ module: each says
where its code comes from, so the caller sees that the native code ran."""

import markupsafe
import markupsafe._native

try:
    import greet
except ImportError:
    greet = None

print("escape:", markupsafe.escape.__module__, type(markupsafe.escape).__name__)
print("greet:", greet.hello("kontain") if greet else "missing")
for text in ['<a href="x">Tom & Jerry</a>', "it's \u00e9t\u00e9", "plain", "<" * 5000]:
    escaped = str(markupsafe.escape(text))
    assert escaped == str(markupsafe._native.escape(text)), text
    print(escaped[:80])
print("markup:", markupsafe.Markup("<em>%s</em>") % "<script>")
