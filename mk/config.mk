# Configuration front ends (config-frontend): the generated configuration reference.
# Always regenerated (it takes a second): file dates say nothing after a merge or checkout.
# bench-config-parse is declared in mk/config-lexer.mk; it runs bench/config-parse/run.ts,
# which needs dist/lbctl (`make build`).
.PHONY: docs

docs:
	$(BUN) src/config/docs.ts > docs/config.md.tmp && mv docs/config.md.tmp docs/config.md
