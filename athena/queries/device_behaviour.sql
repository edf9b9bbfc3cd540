-- Views, cart additions and purchases per device, and each device's
-- view -> cart -> purchase conversion.
SELECT
  device,
  SUM(CASE WHEN action = 'VIEW' THEN 1 ELSE 0 END) AS views,
  SUM(CASE WHEN action = 'ADD_TO_CART' THEN 1 ELSE 0 END) AS cart_adds,
  SUM(CASE WHEN action = 'PURCHASE' THEN 1 ELSE 0 END) AS purchases,
  CAST(SUM(CASE WHEN action = 'ADD_TO_CART' THEN 1 ELSE 0 END) AS DOUBLE)
    / NULLIF(SUM(CASE WHEN action = 'VIEW' THEN 1 ELSE 0 END), 0) AS view_to_cart,
  CAST(SUM(CASE WHEN action = 'PURCHASE' THEN 1 ELSE 0 END) AS DOUBLE)
    / NULLIF(SUM(CASE WHEN action = 'ADD_TO_CART' THEN 1 ELSE 0 END), 0) AS cart_to_purchase
FROM ecommerce_events
GROUP BY device
ORDER BY device;
