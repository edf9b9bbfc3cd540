-- Most added-to-cart product categories, most first.
SELECT product_category, COUNT(*) AS cart_adds
FROM ecommerce_events
WHERE action = 'ADD_TO_CART'
GROUP BY product_category
ORDER BY cart_adds DESC, product_category;
