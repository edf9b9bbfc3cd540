-- The most viewed and most added high-value products, with their categories.
SELECT
  product_id,
  product_category,
  SUM(CASE WHEN action = 'VIEW' THEN 1 ELSE 0 END) AS views,
  SUM(CASE WHEN action = 'ADD_TO_CART' THEN 1 ELSE 0 END) AS cart_adds
FROM ecommerce_events
WHERE is_high_value
GROUP BY product_id, product_category
ORDER BY views DESC, cart_adds DESC, product_id
LIMIT 20;
