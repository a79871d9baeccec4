# Health checkers (src/check): their unit and integration tests alone.
.PHONY: test-checkers
test-checkers: deps
	$(BUN) --bun ./node_modules/.bin/vitest run test/unit/check- test/integration/check-
