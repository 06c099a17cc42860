<?php
/**
 * Bluepaid hub payment method for Magento 2.3 and later: sends the buyer to the hub's pay URL.
 */

use Magento\Framework\Component\ComponentRegistrar;

ComponentRegistrar::register(ComponentRegistrar::MODULE, 'Bluepaid_Hub', __DIR__);
