"""Pure, vectorised yearly rules (no model state): demography, migration, labour market, innovation."""
