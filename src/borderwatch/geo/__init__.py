"""The geo stage: gazetteer (`gazetteer`, built by `build`), place mentions (`geoparse`), distances
(`proximity`) to borders and critical sites (`sites`), wired together in `stage.GeoStage`."""
